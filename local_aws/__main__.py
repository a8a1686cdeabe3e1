"""Command line: python -m local_aws {start,stop,status,run} [--host H] [--port P] [--state-dir D]."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import server


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_aws", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status", "run"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--state-dir", type=Path, default=None, help="default: .state/local-aws-PORT")
    parser.add_argument("--ready-timeout", type=float, default=30.0)
    parser.add_argument(
        "--iam", choices=["enforced", "off"], default="enforced",
        help="enforced (default): every request is authorised against its signer's IAM policies",
    )  # fmt: skip
    parser.add_argument(
        "--identity", action="append", default=[], metavar="NAME,ACCESS_KEY,SECRET_KEY,POLICY_FILE",
        help=f"an IAM user to create with that key pair and that policy (repeatable; also one per line of "
        f"${server.IDENTITIES_VARIABLE}, which keeps key pairs off the command line)",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    identities = (*args.identity, *filter(None, os.environ.get(server.IDENTITIES_VARIABLE, "").splitlines()))
    if args.command == "run":
        server.run_foreground(args.host, args.port, args.iam == "enforced", identities)
        return 0
    state_dir = args.state_dir or Path(f".state/local-aws-{args.port}")
    endpoint = server.Endpoint(args.host, args.port, state_dir.resolve(), args.iam == "enforced", identities)
    try:
        if args.command == "start":
            result = server.start(endpoint, args.ready_timeout)
        elif args.command == "stop":
            result = server.stop(endpoint)
        else:
            result = server.status(endpoint)
    except RuntimeError as error:
        print(json.dumps({"failed": True, "msg": str(error)}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
