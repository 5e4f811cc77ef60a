import signal

from governance.cli import main


def _stop(signum, frame):  # a scheduler's SIGTERM stops like Ctrl-C: open transactions roll back, part files go
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _stop)
raise SystemExit(main())
