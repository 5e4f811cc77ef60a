"""Background jobs: long steps that run on by themselves, with their progress in the `jobs` table.

`runner` owns the table and works the queue (one worker thread per app process); command-line runs
record themselves there too. `kinds` names the jobs the app starts (the pipeline after an upload,
applying review decisions, a resolve) and queues them.
"""
