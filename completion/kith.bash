# bash completion for kith(1): commands, global options, each command's options and
# subcommands, and contact names (from `kith contacts --json` of the profile named by --home,
# else $KITH_HOME). Names are looked up only when that needs no typing: a running kith answers
# for its profile, or a --passphrase-file / $KITH_PASSPHRASE_FILE is given. kith never asks
# for a passphrase from here.

_kith_commands="tui init id invite accept contacts send log boundary consent show verify
    rename status repair practice config passwd backup restore wipe run demo retention circle
    circles"

# Contact names of the profile the command line names, one per line.
_kith_contacts()
{
    local -a global=()
    local i w
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
        --home | --passphrase-file)
            global+=("$w" "${COMP_WORDS[i + 1]}")
            ((i++))
            ;;
        --home=* | --passphrase-file=*) global+=("$w") ;;
        -*) ;;
        *) break ;;
        esac
    done
    # No controlling terminal (setsid): kith can't stop to ask for a passphrase.
    setsid timeout 5 "${COMP_WORDS[0]}" "${global[@]}" contacts --json </dev/null 2>/dev/null |
        grep -o '"name":"[^"]*"' | sed 's/^"name":"//; s/"$//'
}

# Circle names, same rules as _kith_contacts.
_kith_circles()
{
    local -a global=()
    local i w
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
        --home | --passphrase-file)
            global+=("$w" "${COMP_WORDS[i + 1]}")
            ((i++))
            ;;
        --home=* | --passphrase-file=*) global+=("$w") ;;
        -*) ;;
        *) break ;;
        esac
    done
    setsid timeout 5 "${COMP_WORDS[0]}" "${global[@]}" circles --json </dev/null 2>/dev/null |
        grep -o '"name":"[^"]*"' | sed 's/^"name":"//; s/"$//'
}

# _kith_reply WORDS...: complete the current word from WORDS (a name may hold spaces).
_kith_reply()
{
    local cur=${COMP_WORDS[COMP_CWORD]} w
    COMPREPLY=()
    while IFS= read -r w; do
        [[ -n $w && $w == "$cur"* ]] && COMPREPLY+=("$w")
    done < <(printf '%s\n' "$@")
}

_kith()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local cmd="" i w
    local -a args=()

    # Find the command after the global options; args gets the words after it.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ -z $cmd ]]; then
            case $w in
            --home | --passphrase-file) ((i++)) ;;
            -*) ;;
            *) cmd=$w ;;
            esac
        elif [[ $w != -* ]]; then
            case ${COMP_WORDS[i - 1]} in
            --wait | --limit | --ttl | --as | --name | --listen | --seed | --partner | \
                --new-passphrase-file | --home | --circle | --mood | --with | --note | --kind | \
                --at) ;;
            *) args+=("$w") ;;
            esac
        fi
    done

    case $prev in
    --home)
        COMPREPLY=($(compgen -d -- "$cur"))
        return
        ;;
    --passphrase-file | --new-passphrase-file)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --partner)
        _kith_reply receptive defensive withdrawn
        return
        ;;
    --wait | --limit | --ttl | --as | --name | --listen | --seed | --note | --at)
        COMPREPLY=()
        return
        ;;
    --circle)
        mapfile -t COMPREPLY < <(_kith_reply_lines "$(_kith_circles)")
        return
        ;;
    --mood)
        _kith_reply rough low okay steady good
        return
        ;;
    --kind)
        _kith_reply company distraction listening practical presence
        return
        ;;
    esac

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            _kith_reply --home --passphrase-file --help --version
        else
            _kith_reply $_kith_commands
        fi
        return
    fi

    local opts="--help"
    case $cmd in
    init) opts+=" --name --listen" ;;
    id | contacts | status | circles) opts+=" --json" ;;
    invite) opts+=" --ttl --circle" ;;
    circle) opts+=" --json --mood --with --note --kind --at" ;;
    accept) opts+=" --as" ;;
    send) opts+=" --wait --heavy --urgent --each" ;;
    log) opts+=" --limit --json" ;;
    boundary) opts+=" --json --theirs" ;;
    verify) opts+=" --yes --no" ;;
    repair | retention) opts+=" --json" ;;
    practice) opts+=" --partner --seed --script --save" ;;
    passwd) opts+=" --new-passphrase-file" ;;
    restore) opts+=" --home" ;;
    wipe) opts+=" --yes" ;;
    esac
    if [[ $cur == -* ]]; then
        _kith_reply $opts
        return
    fi

    case $cmd in
    send | log | consent | show | verify | rename)
        if ((${#args[@]} == 0)); then
            local names
            names=$(_kith_contacts)
            if [[ $cmd == send || $cmd == log ]]; then
                names+=$'\n'$(_kith_circles | sed 's/^/#/')
            fi
            mapfile -t COMPREPLY < <(_kith_reply_lines "$names")
        fi
        ;;
    circle)
        if ((${#args[@]} == 0)); then
            _kith_reply create members remove admin leave checkin support reply
        elif ((${#args[@]} == 1)) && [[ ${args[0]} != create ]]; then
            mapfile -t COMPREPLY < <(_kith_reply_lines "$(_kith_circles)")
        elif ((${#args[@]} == 2)) && [[ ${args[0]} == remove || ${args[0]} == admin ]]; then
            mapfile -t COMPREPLY < <(_kith_reply_lines "$(_kith_contacts)")
        fi
        ;;
    boundary | repair)
        if ((${#args[@]} == 0)); then
            if [[ $cmd == boundary ]]; then
                _kith_reply show set clear
            else
                _kith_reply act status keep
            fi
        elif ((${#args[@]} == 1)); then
            mapfile -t COMPREPLY < <(_kith_reply_lines "$(_kith_contacts)")
        elif [[ $cmd == boundary && ${args[0]} != show ]]; then
            _kith_reply block mute mute= snooze= quiet= rate= ask-heavy ask-heavy= notes= \
                trust= breakthrough= tell=on tell=off until=
            [[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
        fi
        ;;
    retention)
        if ((${#args[@]} == 0)); then
            mapfile -t COMPREPLY < <(_kith_reply_lines "$(_kith_contacts)")
        elif ((${#args[@]} == 1)); then
            _kith_reply accept decline off 30s 10m 1h 1d 7d
        fi
        ;;
    config)
        if ((${#args[@]} == 0)); then
            _kith_reply get set
        elif ((${#args[@]} == 1)); then
            _kith_reply listen advertise socks5 notify crisis_line my_people country
        elif ((${#args[@]} == 2)) && [[ ${args[0]} == set && ${args[1]} == notify ]]; then
            _kith_reply bell desktop both off
        fi
        ;;
    backup | restore)
        ((${#args[@]} == 0)) && COMPREPLY=($(compgen -f -- "$cur"))
        ;;
    *) COMPREPLY=() ;;
    esac
}

# The lines of $1 that start with the current word, one per line.
_kith_reply_lines()
{
    local cur=${COMP_WORDS[COMP_CWORD]} w
    while IFS= read -r w; do
        [[ -n $w && $w == "$cur"* ]] && printf '%s\n' "$w"
    done <<<"$1"
}

complete -F _kith kith
