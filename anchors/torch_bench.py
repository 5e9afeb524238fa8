"""Anchor: PyTorch training throughput for the paper's CIFAR10 models (28x28x3, batch 128).

Copied from the project's reference script (shared/anchors/torch_bench.py, the one
scripts/bench-vs-torch.mjs ran); the timed region is unchanged, and so are the models but one fix:
small Inception's downsample modules pad as ours and the paper's do (SAME: 28 -> 14 -> 7, which the
paper's 7x7 global mean pool needs; shared/paper/SPEC.md), where the reference left the strided
conv and max pool unpadded (VALID: 28 -> 13 -> 6, 176.3 M conv multiply-adds per image against
204.2 M: 13.7% less work than the network it was compared with). Added for
pipelines/torch-anchor.yaml: rethink's model names as aliases, --out (one model's result as JSON),
a clear ::error line where torch is missing, and ::progress lines. For scripts/bench-vs-torch.mjs:
--warmup (untimed steps, default 3 as before) and each timed step's time in --out (step_ms); the
images/second figure is still steps x batch / the time of the whole timed loop.

Setup on Debian: apt-get install -y python3-torch libopenblas0-pthread
Run: /usr/bin/python3 torch_bench.py [--device cpu|cuda] [--steps N] [--warmup N] [--batch N] [--threads N] [--models a,b] [--out result.json]
Prints one line per model: images/second for a full SGD-momentum training step
(forward, backward, update) on random inputs.
"""
import argparse, json, os, sys, time
try:
    import torch, torch.nn as nn, torch.nn.functional as F
except ImportError:
    print('::error python3-torch is not installed for %s: apt-get install -y python3-torch libopenblas0-pthread' % sys.executable, flush=True)
    sys.exit(1)

class ConvBN(nn.Module):
    def __init__(s, cin, cout, k, stride=1, bn=True):
        super().__init__()
        # k // 2 at every stride: a 3x3/2 conv on 28x28 gives 14x14, as TF's SAME does (TF pads the
        # extra row and column at the end, PyTorch on both sides: the same work).
        s.conv = nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=not bn)
        s.bn = nn.BatchNorm2d(cout, eps=1e-3) if bn else nn.Identity()
    def forward(s, x): return F.relu(s.bn(s.conv(x)))

class Inception(nn.Module):
    def __init__(s, cin, c1, c3, bn):
        super().__init__(); s.a = ConvBN(cin, c1, 1, bn=bn); s.b = ConvBN(cin, c3, 3, bn=bn)
    def forward(s, x): return torch.cat([s.a(x), s.b(x)], 1)

class Down(nn.Module):
    def __init__(s, cin, c3, bn):
        super().__init__(); s.a = ConvBN(cin, c3, 3, stride=2, bn=bn)
    def forward(s, x): return torch.cat([s.a(x), F.max_pool2d(x, 3, 2, padding=1)], 1)

def small_inception(bn=True):
    L = [ConvBN(3, 96, 3, bn=bn), Inception(96, 32, 32, bn), Inception(64, 32, 48, bn), Down(80, 80, bn),
         Inception(160, 112, 48, bn), Inception(160, 96, 64, bn), Inception(160, 80, 80, bn), Inception(160, 48, 96, bn),
         Down(144, 96, bn), Inception(240, 176, 160, bn), Inception(336, 176, 160, bn),
         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(336, 10)]
    return nn.Sequential(*L)

def small_alexnet():
    return nn.Sequential(
        nn.Conv2d(3, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), nn.LocalResponseNorm(5),
        nn.Conv2d(64, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), nn.LocalResponseNorm(5),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 384), nn.ReLU(), nn.Linear(384, 192), nn.ReLU(), nn.Linear(192, 10))

def mlp(depth):
    L, d = [nn.Flatten()], 28 * 28 * 3
    for _ in range(depth): L += [nn.Linear(d, 512), nn.ReLU()]; d = 512
    return nn.Sequential(*L, nn.Linear(d, 10))

MODELS = {'mlp_1x512': lambda: mlp(1), 'mlp_3x512': lambda: mlp(3), 'alexnet_small': small_alexnet,
          'inception_small': small_inception, 'inception_small_nobn': lambda: small_inception(False)}
# rethink's names for the same models (src/models): its small_inception has no batch norm.
MODELS.update({'small_alexnet': MODELS['alexnet_small'], 'small_inception': MODELS['inception_small_nobn'],
               'small_inception_bn': MODELS['inception_small']})

def main():
    p = argparse.ArgumentParser(); p.add_argument('--device', default='cpu'); p.add_argument('--steps', type=int, default=10)
    p.add_argument('--models', default=','.join(MODELS)); p.add_argument('--batch', type=int, default=128)
    p.add_argument('--threads', type=int, default=os.cpu_count()); p.add_argument('--out')
    p.add_argument('--warmup', type=int, default=3)
    a = p.parse_args(); dev = torch.device(a.device); torch.set_num_threads(a.threads)
    results = []
    for name in a.models.split(','):
        m = MODELS[name]().to(dev); nparams = sum(t.numel() for t in m.parameters())
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(a.batch, 3, 28, 28, device=dev); y = torch.randint(0, 10, (a.batch,), device=dev)
        def step():
            opt.zero_grad(set_to_none=True); loss = F.cross_entropy(m(x), y); loss.backward(); opt.step()
        for _ in range(a.warmup): step()
        if dev.type == 'cuda': torch.cuda.synchronize()
        t0 = time.perf_counter(); step_ms = []
        for i in range(a.steps):
            s0 = time.perf_counter(); step(); step_ms.append((time.perf_counter() - s0) * 1000)
            print(f'::progress model={name} step={i + 1}/{a.steps}', flush=True)
        if dev.type == 'cuda': torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        ips = a.steps * a.batch / dt
        print(f'{name}\tparams={nparams}\t{ips:.1f} img/s\tdevice={a.device}\tthreads={torch.get_num_threads()}', flush=True)
        results.append({'model': name, 'params': nparams, 'images_per_second': ips, 'device': a.device,
                        'threads': torch.get_num_threads(), 'batch': a.batch, 'steps': a.steps, 'warmup': a.warmup, 'step_ms': step_ms, 'torch': torch.__version__})
    if a.out:
        with open(a.out, 'w') as f:
            json.dump(results[0] if len(results) == 1 else results, f, indent=1)

if __name__ == '__main__': main()
