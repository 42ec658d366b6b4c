#!/usr/bin/python3
"""PyTorch CPU twin of Cascade's two-tower model (candidates/twotower), for the training-speed
comparison run by bench/twotower_vs_torch.sh. Not a dependency of Cascade.

Same architecture and batch as the Go defaults: item-ID table shared by both towers (d = 64);
item tower = item embedding + mean of genre embeddings (16) + standardised numeric attributes
with missing flags -> MLP [128] -> L2 normalise; query tower = last 50 history items + learned
position embeddings (0 = most recent) -> one 2-head self-attention block with key padding mask,
residual + LayerNorm -> masked mean pool -> concat hour-of-day and day-of-week embeddings (8) ->
MLP [128] -> L2 normalise; in-batch softmax at temperature 0.05 with accidental-hit masking and
logQ correction from the streaming estimator of Yi et al. 2019; Adam, lr 2e-3, batch 256.

Input: a directory with events.csv (user_id,item_id,timestamp,value; dense integer IDs, time
order) and items.csv (item_id,genres,year; genres '|'-separated, year empty when unknown).
Output: one line of JSON with the measured examples/s.
"""
import argparse
import csv
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(d):
    ev = np.loadtxt(os.path.join(d, "events.csv"), delimiter=",", skiprows=1, usecols=(0, 1, 2), dtype=np.int64)
    users, items, times = ev[:, 0], ev[:, 1], ev[:, 2]
    genres, years = [], []
    with open(os.path.join(d, "items.csv")) as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            genres.append([int(g) for g in row[1].split("|")] if row[1] else [])
            years.append(float(row[2]) if row[2] else math.nan)
    return users, items, times, genres, np.array(years, dtype=np.float32)


class TwoTower(nn.Module):
    def __init__(self, n_items, n_genres, n_num, d=64, L=50, heads=2, hidden=128, attr=16, ctx=8):
        super().__init__()
        self.item = nn.Embedding(n_items, d)
        self.pos = nn.Embedding(L, d)
        self.hour = nn.Embedding(24, ctx)
        self.dow = nn.Embedding(7, ctx)
        self.genre = nn.EmbeddingBag(n_genres, attr, mode="mean")
        for e in (self.item, self.pos, self.hour, self.dow, self.genre):
            nn.init.normal_(e.weight, std=1 / math.sqrt(e.weight.shape[1]))
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln = nn.LayerNorm(d)
        self.qmlp = nn.Sequential(nn.Linear(d + 2 * ctx, hidden), nn.ReLU(), nn.Linear(hidden, d))
        self.imlp = nn.Sequential(nn.Linear(d + attr + 2 * n_num, hidden), nn.ReLU(), nn.Linear(hidden, d))

    def query(self, hist, pos, pad, hour, dow):
        x = self.item(hist) + self.pos(pos)                      # B×L×d, padded
        a, _ = self.attn(x, x, x, key_padding_mask=pad, need_weights=False)
        h = self.ln(x + a)
        keep = (~pad).unsqueeze(-1).float()
        pooled = (h * keep).sum(1) / keep.sum(1).clamp(min=1)    # masked mean pool
        z = torch.cat([pooled, self.hour(hour), self.dow(dow)], 1)
        return F.normalize(self.qmlp(z), dim=1)

    def items(self, ids, bag, bag_off, num):
        z = torch.cat([self.item(ids), self.genre(bag, bag_off), num], 1)
        return F.normalize(self.imlp(z), dim=1)


class StreamingFreq:
    """Yi et al. 2019: hashed last-seen step A and average gap B; p = 1/(batch*B)."""

    def __init__(self, buckets, alpha, batch, n_items):
        self.a = np.zeros(buckets, np.int64)
        self.b = np.full(buckets, max(1.0, n_items / batch), np.float32)
        self.alpha, self.batch, self.n = alpha, batch, buckets

    def observe(self, t, items):
        for it in items:
            h = it % self.n
            self.b[h] = (1 - self.alpha) * self.b[h] + self.alpha * (t - self.a[h])
            self.a[h] = t

    def logp(self, items):
        return -np.log(self.batch * np.maximum(self.b[items % self.n], 1e-3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--batches", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    L, B, tau = 50, args.batch_size, 0.05

    users, items, times, genres, years = load(args.dir)
    n_items = max(int(items.max()) + 1, len(genres))
    # Samples: every event with an earlier event of the same user; history = last L before it.
    order = np.lexsort((np.arange(len(users)), users))  # by user, time order kept
    u_sorted = users[order]
    starts = np.searchsorted(u_sorted, u_sorted, side="left")
    idx = np.arange(len(order))
    samples = idx[idx > starts]
    seq_items, seq_times, seq_start = items[order], times[order], starts

    known = ~np.isnan(years)
    mean, std = years[known].mean(), max(years[known].std(), 1e-6)
    num = np.stack([np.where(known, (years - mean) / std, 0), (~known).astype(np.float32)], 1).astype(np.float32)
    num_t = torch.from_numpy(num)
    n_genres = max([g for gs in genres for g in gs], default=0) + 1

    model = TwoTower(n_items, n_genres, 1, d=64, L=L)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    freq = StreamingFreq(1 << 18, 0.01, B, n_items)

    def batch_tensors(sel):
        hist = np.zeros((len(sel), L), np.int64)
        pos = np.zeros((len(sel), L), np.int64)
        pad = np.ones((len(sel), L), bool)
        for r, s in enumerate(sel):
            lo = max(seq_start[s], s - L)
            h = seq_items[lo:s]
            n = len(h)
            hist[r, :n] = h
            pos[r, :n] = np.arange(n - 1, -1, -1)
            pad[r, :n] = False
        t = seq_times[sel]
        hour = (t // 3600) % 24
        dow = ((t // 86400) + 3) % 7
        tgt = seq_items[sel]
        bag, off = [], []
        for it in tgt:
            off.append(len(bag))
            bag.extend(genres[it] if it < len(genres) else [])
        return (torch.from_numpy(hist), torch.from_numpy(pos), torch.from_numpy(pad), torch.from_numpy(hour),
                torch.from_numpy(dow), torch.from_numpy(tgt), torch.tensor(bag, dtype=torch.long),
                torch.tensor(off, dtype=torch.long))

    perm = rng.permutation(samples)
    nb = len(perm) // B
    done, t0, step = 0, None, 0
    for b in range(args.warmup + args.batches):
        if b == args.warmup:
            t0 = time.perf_counter()
        sel = perm[(b % nb) * B:(b % nb + 1) * B]
        hist, pos, pad, hour, dow, tgt, bag, off = batch_tensors(sel)
        step += 1
        tn = tgt.numpy()
        freq.observe(step, tn)
        logq = torch.from_numpy(freq.logp(tn)).float()
        u = model.query(hist, pos, pad, hour, dow)
        v = model.items(tgt, bag, off, num_t[tgt])
        logits = u @ v.T / tau - logq.unsqueeze(0)
        hit = (tgt.unsqueeze(0) == tgt.unsqueeze(1)) & ~torch.eye(len(tgt), dtype=torch.bool)
        logits = logits.masked_fill(hit, float("-inf"))
        loss = F.cross_entropy(logits, torch.arange(len(tgt)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if b >= args.warmup:
            done += len(sel)
    el = time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "threads": args.threads, "batch_size": B,
                      "batches": args.batches, "examples": done, "seconds": round(el, 3),
                      "examples_per_s": round(done / el, 1), "last_loss": round(float(loss), 4)}))


if __name__ == "__main__":
    main()
