"""The side-by-side table of pipelines/torch-anchor.yaml: rethink's bench and PyTorch's, per model.

Usage: python3 table.py --ours BENCH.json... --torch RESULT.json... --md table.md --json table.json
Each --ours file is rethink's bench output (`node dist/src/bench/main.js --json`); each --torch
file is torch_bench.py --out output.
Standard library only.
"""
import argparse, json

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ours', nargs='+', required=True); p.add_argument('--torch', nargs='+', required=True)
    p.add_argument('--md', required=True); p.add_argument('--json', required=True)
    a = p.parse_args()
    ours = {}
    for path in a.ours:
        doc = json.load(open(path))
        for m in doc['models']:
            ours[m['model']] = {'images_per_second': m['imagesPerSecond']['mean'], 'backend': doc['backend']['name'], 'threads': doc['backend'].get('threads')}
    torch = {}
    for path in a.torch:
        r = json.load(open(path))
        torch[r['model']] = r
    rows = []
    for model in sorted(set(ours) | set(torch)):
        o, t = ours.get(model), torch.get(model)
        ratio = o['images_per_second'] / t['images_per_second'] if o and t else None
        rows.append({'model': model, 'rethink': o['images_per_second'] if o else None, 'backend': o['backend'] if o else None,
                     'torch': t['images_per_second'] if t else None, 'torch_threads': t['threads'] if t else None, 'ratio': ratio})
    fmt = lambda v, f='%.1f': '—' if v is None else f % v
    lines = ['| model | rethink img/s | backend | PyTorch img/s | torch threads | rethink ÷ PyTorch |', '|---|---:|---|---:|---:|---:|']
    lines += ['| %s | %s | %s | %s | %s | %s |' % (r['model'], fmt(r['rethink']), r['backend'] or '—', fmt(r['torch']), r['torch_threads'] or '—', fmt(r['ratio'], '%.2f')) for r in rows]
    open(a.md, 'w').write('\n'.join(lines) + '\n')
    json.dump({'rows': rows}, open(a.json, 'w'), indent=1)
    print('\n'.join(lines))

if __name__ == '__main__': main()
