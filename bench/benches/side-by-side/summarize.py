"""Turns results.jsonl of run.sh into the Markdown table of BENCHMARKS.md."""
import json
import statistics
import sys
from collections import defaultdict

CLIENTS = ['rust', 'bare-tonic', 'typescript', 'python']
times = defaultdict(list)
counts = {}
server = defaultdict(list)
for line in open(sys.argv[1]):
    row = json.loads(line)
    key = (row['task'] if row['task'] != 'member_list' else f"member_list {row['count']}", row['client'])
    times[key].append(row['ms'])
    counts[key] = row['count']
    if 'server_ms' in row:
        server[key].append(row['server_ms'])


def spread(values):
    return f"{statistics.median(values):.0f} ms ({min(values):.0f}–{max(values):.0f})"


tasks = sorted({task for task, _ in times}, key=lambda task: (task.startswith('events'), task))
print('| task | ' + ' | '.join(CLIENTS) + ' | python / rust | typescript / rust |')
print('|---|' + '---|' * (len(CLIENTS) + 2))
for task in tasks:
    cells = []
    for client in CLIENTS:
        values = times.get((task, client))
        cells.append(spread(values) if values else '–')
    ratios = []
    for other in ['python', 'typescript']:
        if (task, other) in times and (task, 'rust') in times:
            ratios.append(f"{statistics.median(times[(task, other)]) / statistics.median(times[(task, 'rust')]):.1f}×")
        else:
            ratios.append('–')
    print(f"| {task} | " + ' | '.join(cells) + ' | ' + ' | '.join(ratios) + ' |')
for client in CLIENTS:
    key = ('events', client)
    if key in times and server[key]:
        sent = statistics.median(server[key])
        got = statistics.median(times[key])
        print(f"\n{client}: {counts[key]} events; the server took {sent:.0f} ms to send them, "
              f"the client had them all after {got:.0f} ms "
              f"({counts[key] / got * 1e3:,.0f} events/s received vs {counts[key] / sent * 1e3:,.0f}/s sent)", end='')
print()
