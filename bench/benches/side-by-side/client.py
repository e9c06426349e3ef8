"""python-wechaty's side of the side-by-side benchmark (BENCHMARKS.md).

One task per process, so every run starts cold:
    python client.py member_list ROOM-ID | find_all | events COUNT CONTROL-HOST:PORT
Connects with WECHATY_PUPPET_SERVICE_ENDPOINT / _TOKEN; prints one JSON line.
"""
import asyncio
import json
import os
import sys
import time
import urllib.request

os.environ.setdefault('WECHATY_LOG', 'error')

from wechaty import Wechaty  # noqa: E402  (after the log level is set)


def post(address, path, body):
    request = urllib.request.Request(f'http://{address}{path}', data=json.dumps(body).encode(), method='POST')
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def emit(task, **fields):
    print(json.dumps({'client': 'python', 'task': task, **fields}), flush=True)


async def main():
    task = sys.argv[1]
    bot = Wechaty()
    received = 0
    wanted = float('inf')
    all_received = asyncio.Event()

    async def on_join(*_):
        nonlocal received
        received += 1
        if received >= wanted:
            all_received.set()

    ready = asyncio.Event()

    async def on_ready(*_):
        ready.set()

    bot.on('room-join', on_join)
    bot.on('ready', on_ready)
    # `start()` returns only when the Event stream ends: run it beside the task.
    asyncio.create_task(bot.start())
    await asyncio.wait_for(ready.wait(), timeout=30)
    if task == 'member_list':
        room = bot.Room.load(sys.argv[2])
        started = time.perf_counter()
        members = await room.member_list()
        emit(task, ms=(time.perf_counter() - started) * 1e3, count=len(members))
    elif task == 'find_all':
        started = time.perf_counter()
        rooms = await bot.Room.find_all()
        emit(task, ms=(time.perf_counter() - started) * 1e3, count=len(rooms))
    elif task == 'events':
        wanted = int(sys.argv[2])
        await asyncio.sleep(0.5)
        started = time.perf_counter()
        server = await asyncio.to_thread(post, sys.argv[3], '/flood', {'count': wanted})
        await asyncio.wait_for(all_received.wait(), timeout=300)
        emit(task, ms=(time.perf_counter() - started) * 1e3, count=received, server_ms=server['ms'], cpu_ms=time.process_time() * 1e3)
    else:
        raise SystemExit(f'unknown task {task}')
    os._exit(0)


asyncio.run(main())
