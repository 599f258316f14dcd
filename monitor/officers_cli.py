"""`monitor officers …`: list the officers, add one, issue a new token (rotation). The token
is printed once; the file keeps only its hash."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.config import load_settings
from monitor.officers import Role, issue_token, load_officers


def register(sub: argparse._SubParsersAction) -> None:
    officers = sub.add_parser("officers", help="named officers of the duty page and write API")
    officers.add_argument("--file", type=Path,
                          help="officers file (default: $MONITOR_OFFICERS, else officers.yaml)")
    verbs = officers.add_subparsers(title="officer commands")
    verbs.add_parser("list", help="name and role of each officer").set_defaults(
        func=cmd_list)
    add = verbs.add_parser("add", help="add an officer and print their first token")
    add.add_argument("name")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.OFFICER.value)
    add.set_defaults(func=cmd_add)
    token = verbs.add_parser("token", help="issue a new token (the old one stops working)")
    token.add_argument("name")
    token.add_argument("--role", choices=[r.value for r in Role],
                       help="also change the role")
    token.set_defaults(func=cmd_token)


def _path(args: argparse.Namespace) -> Path:
    return args.file or load_settings().officers_file


def cmd_list(args: argparse.Namespace) -> int:
    path = _path(args)
    officers = load_officers(path).officers
    for officer in officers:
        print(f"{officer.name}\t{officer.role.value}\ttoken {officer.token_id}.…")
    print(f"{path}: {len(officers)} officer(s)")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    token = issue_token(_path(args), args.name, Role(args.role), create=True)
    return _show(args.name, token)


def cmd_token(args: argparse.Namespace) -> int:
    token = issue_token(_path(args), args.name, Role(args.role) if args.role else None)
    return _show(args.name, token)


def _show(name: str, token: str) -> int:
    print(f"token for {name} (shown once; give it to them and keep no copy):\n{token}")
    print("The running service reads the officers file at start: restart it to apply.")
    return 0
