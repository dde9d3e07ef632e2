"""A local debugging SMTP sink for `make run`: every message lands in DIR as <Message-ID>.eml
(`<delivery id>_convene.notifications.eml` for Convene's notifications).

    python scripts/mail_sink.py --port 1025 --dir .run/mail

Loopback only. Messages are kept once per Message-ID (an idempotent mailbox): a redelivery
of the same notification overwrites its file instead of adding one.
"""

from __future__ import annotations

import argparse
import re
import signal
import threading
from email import message_from_bytes
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        raw_id = str(message["Message-ID"] or "no-id").strip().strip("<>").replace("@", "_")
        message_id = re.sub(r"[^A-Za-z0-9_.-]", "", raw_id)
        path = self.directory / f"{message_id or 'no-id'}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(envelope.content)
        temporary.replace(path)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path(".run/mail"))
    args = parser.parse_args()
    controller = Controller(Mailbox(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    try:
        stopped.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
