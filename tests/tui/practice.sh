#!/bin/bash
# The practice card (`kith practice`, DOMAIN.md §2.6) in tmux: the intro, the
# not-therapy footer with F1, the pause and end keys on screen, each step's
# prompt, the feelings and needs pickers, the coach's hint before sending
# (never blocking), and the closing feedback. The receptive partner is walked
# to the end; the defensive and withdrawn ones to their characteristic replies,
# then ended (F6) and paused-for-later respectively. No profile is needed.
KITH=$1
. "$(dirname "$0")/lib.sh"
export KITH_HOME="$T/none"

# practice SESSION PARTNER: the card in a fresh tmux session, seed 7.
practice() { session "$1" env KITH_HOME="$T/none" "$KITH" practice --partner "$2" --seed 7; }

practice r receptive
wait_for r "This is a rehearsal with a pretend partner. Nothing is sent."
wait_for r "kith isn't therapy"
wait_for r "If you're not safe right now: F1"
wait_for r "F5 pause"
wait_for r "F6 end"
keys r F1
wait_for r "If you're in immediate danger, contact your local emergency number."
keys r Space
wait_gone r "If you're in immediate danger"
# invite: the topic, then send
typed r "the party on Saturday"; keys r Enter; keys r Enter
wait_for r "I'm glad you asked"
wait_for r "What happened, as a camera would have seen it?"
# share: observation (the coach flags "always" before sending), a feeling, a need, a request
typed r "You always leave the party without telling me"
wait_for r "Coach"
wait_for r "Words like 'always' can make it hard to be heard."
keys r C-u
typed r "You left the party without telling me"
wait_gone r "Coach"
keys r Tab; keys r Space                 # feelings: the first, "hurt"
wait_for r "hurt"
keys r Right; keys r Space               # and "sad"
keys r Tab; keys r Tab; keys r Space     # needs: the first, "to be heard"
keys r Tab; typed r "Would you be willing to text me next time?"
keys r Enter; keys r Enter
wait_for r "Did I get it?"
# confirm: yes
keys r Right; keys r Enter; keys r Enter; keys r Enter
wait_for r "I'm sorry"
# receive: ok
keys r Right; keys r Enter; keys r Enter; keys r Enter; keys r Enter
wait_for r "Is there one small thing you'd both like to try next time?"
typed r "Text each other before leaving a party."; keys r Enter; keys r Enter
wait_for r "let's try that"
# checkout: 4, shared
keys r Right Right Right Right; keys r Enter
keys r Right Right; keys r Enter; keys r Enter
wait_for r "What went well"
wait_for r "Try again with a different partner?"
wait_for r "closed (repaired)"
keys r Escape
wait_for r "kith-exited=0"
note "receptive: walked to the end"

practice d defensive
wait_for d "a defensive partner"
typed d "the party on Saturday"; keys d Enter; keys d Enter
wait_for d "what is it this time"
typed d "You always ignore me at parties"
wait_for d "Coach"
keys d Tab; keys d Space; keys d Tab; keys d Tab; keys d Space
keys d Tab; typed d "Would you be willing to check in with me once?"
keys d Enter; keys d Enter
wait_for d "So you're saying I'm the problem."
keys d F6
wait_for d "You can stop here. Nothing is lost"
keys d Enter; keys d Enter
wait_for d "closed (ended)"
keys d Escape
wait_for d "kith-exited=0"
note "defensive: the guarded reply, then ended gently"

practice w withdrawn
wait_for w "a withdrawn partner"
typed w "the party on Saturday"; keys w Enter; keys w Enter
wait_for w "Can we do this later? Tonight?"
wait_for w "Where you are: postponed"
keys w F2                                # withdraw -> resume (skip the wait)
wait_for w "resume"
keys w Enter
wait_for w "I'm here now"
typed w "You left the party without telling me"
keys w Tab; keys w Space; keys w Tab; keys w Tab; keys w Space
keys w Tab; typed w "Would you be willing to text me next time?"
keys w Enter; keys w Enter
wait_for w "you felt hurt."
keys w F5
wait_for w "Take the time you need"
keys w Enter; keys w Enter; keys w Enter
wait_for w "on a break"
keys w Escape
wait_for w "kith-exited=0"
[ ! -e "$T/none" ] || fail "practice created a profile"
note "withdrawn: the short reply, then a pause"
