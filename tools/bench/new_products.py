#!/usr/bin/env python3
"""New products on the UCI Online Retail log, for tools/bench/online_retail_new_products.sh.

  split SRC CUTOFF OUT [FIRST_DAYS]
                         SRC (csv, .xz or .gz) -> OUT/before.csv (lines before CUTOFF, as they
                         were), OUT/new_products.csv (item, description, price of every product
                         first sold on or after CUTOFF: its first description and price),
                         OUT/blank_products.csv (the same ids, no values) and
                         OUT/later_purchases.csv (customer, item) for customers known before
                         CUTOFF buying a new product after it. Lines are kept as the importer
                         keeps them (no cancelled invoice, a customer, quantity and price > 0).
                         With FIRST_DAYS, also OUT/first_buyers.csv: the (customer, item) pairs
                         bought within FIRST_DAYS of the product's first sale, which are then left
                         out of later_purchases.csv (add-items --interactions gets them).
  score ARTIFACT PAIRS   per customer of PAIRS: the AUC of the new products they bought against the
                         new products they did not, and whether one is in their top 20 of the new
                         products, by the artifact's scores (user_embeddings . item_embeddings).

Reads artifacts with numpy and safetensors only (a check outside Aisle's own code).
"""
import csv
import gzip
import io
import lzma
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file


def open_text(path):
    p = str(path)
    raw = lzma.open(p) if p.endswith(".xz") else gzip.open(p) if p.endswith(".gz") else open(p, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def kept(row):
    try:
        return (not row["InvoiceNo"].upper().startswith("C") and row["CustomerID"].strip() != ""
                and int(row["Quantity"]) > 0 and float(row["UnitPrice"]) > 0)
    except ValueError:
        return False


def customer(row):
    return str(int(float(row["CustomerID"])))


def day(text):
    import datetime
    return datetime.date.fromisoformat(text[:10]).toordinal()


def split(src, cutoff, out, first_days="0"):
    first_days = int(first_days)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    before_items, before_customers = set(), set()
    later = []
    with open_text(src) as f, open(out / "before.csv", "w", newline="") as b:
        reader = csv.DictReader(f)
        writer = csv.DictWriter(b, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            if row["InvoiceDate"][:10] < cutoff:
                writer.writerow(row)
                if kept(row):
                    before_items.add(row["StockCode"].strip())
                    before_customers.add(customer(row))
            elif kept(row):
                later.append(row)
    products = {}
    for row in later:
        item = row["StockCode"].strip()
        if item not in before_items and item not in products:
            products[item] = (row["Description"], row["UnitPrice"])
    with open(out / "new_products.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item", "description", "price"])
        for item, (text, price) in products.items():
            w.writerow([item, text, price])
    with open(out / "blank_products.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item", "description", "price"])
        for item in products:
            w.writerow([item, "", ""])
    launch = {}
    for row in later:
        item = row["StockCode"].strip()
        if item in products:
            launch[item] = min(launch.get(item, day(row["InvoiceDate"])), day(row["InvoiceDate"]))
    early = {(customer(r), r["StockCode"].strip()) for r in later
             if r["StockCode"].strip() in products and customer(r) in before_customers
             and day(r["InvoiceDate"]) < launch[r["StockCode"].strip()] + first_days}
    pairs = sorted({(customer(r), r["StockCode"].strip()) for r in later
                    if r["StockCode"].strip() in products and customer(r) in before_customers} - early)
    if first_days > 0:
        with open(out / "first_buyers.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["user", "item"])
            w.writerows(sorted(early))
        print(f"{len(early)} purchases within {first_days} days of a new product's first sale "
              f"go to add-items --interactions and are not scored")
    with open(out / "later_purchases.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer", "item"])
        w.writerows(pairs)
    print(f"{len(products)} products first sold on or after {cutoff}; "
          f"{len(pairs)} purchases of them by {len({c for c, _ in pairs})} customers known before it")


def id_map(path, count):
    t = load_file(str(path))
    if "offsets" not in t:  # a dense map: external id = decimal dense id
        return [str(i) for i in range(count)]
    offsets, data = t["offsets"], t["bytes"].tobytes()
    return [data[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(len(offsets) - 1)]


def score(artifact, pairs_file):
    a = Path(artifact)
    w = load_file(str(a / "weights.safetensors"))
    users, items = w["user_embeddings"], w["item_embeddings"]
    user_ids = {u: i for i, u in enumerate(id_map(a / "users.ids.safetensors", len(users)))}
    item_ids = {x: i for i, x in enumerate(id_map(a / "items.ids.safetensors", len(items)))}
    with open(pairs_file, newline="") as f:
        rows = list(csv.DictReader(f))
    new = sorted({item_ids[r["item"]] for r in rows})  # the new products someone bought
    bought = {}
    for r in rows:
        bought.setdefault(user_ids[r["customer"]], set()).add(item_ids[r["item"]])
    aucs, hits = [], []
    new_arr = np.array(new)
    for u, mine in bought.items():
        s = items[new_arr] @ users[u]
        pos = np.array([i in mine for i in new])
        if pos.all():
            continue
        sp, sn = s[pos][:, None], s[~pos][None, :]
        aucs.append(((sp > sn).sum() + 0.5 * (sp == sn).sum()) / (sp.size * sn.size))
        top = new_arr[np.argsort(-s, kind="stable")[:20]]
        hits.append(len(mine & set(top.tolist())) / min(20, len(mine)))
    print(f"{artifact}: {len(aucs)} customers, {len(new)} new products bought; "
          f"AUC {np.mean(aucs):.4f}, Recall@20 among the new products {np.mean(hits):.4f}")


if __name__ == "__main__":
    if len(sys.argv) in (5, 6) and sys.argv[1] == "split":
        split(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "score":
        score(*sys.argv[2:])
    else:
        sys.exit(__doc__)
