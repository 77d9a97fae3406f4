"""What Python reads from a scan's files (NeuronScanFilesTests).

scan.csv and scan.json are written by NeuroMap's scan writer (the test
writes them again with NEUROMAP_UPDATE_FIXTURES=1). This script reads them
with the csv module, pandas and json, and records what it read in
python_read.json, which the Swift test compares with the scan's numbers.

    python read_scan_files.py     # needs pandas
"""
import csv
import json
import os
import re

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_top_tokens(cell):
    """`token:value|token:value`, with `\\` and `|` escaped by a backslash inside tokens."""
    items = re.split(r"(?<!\\)\|", cell) if cell else []
    out = []
    for item in items:
        token, _, value = item.rpartition(":")
        token = re.sub(r"\\(.)", r"\1", token)
        out.append([token, float(value)])
    return out


def main():
    with open(os.path.join(HERE, "scan.csv"), newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames
        rows = [dict(row, top_tokens_parsed=parse_top_tokens(row["top_tokens"])) for row in reader]
    frame = pd.read_csv(os.path.join(HERE, "scan.csv"))
    with open(os.path.join(HERE, "scan.json"), encoding="utf-8") as f:
        loaded = json.load(f)
    with open(os.path.join(HERE, "python_read.json"), "w", encoding="utf-8") as f:
        json.dump({
            "csv_columns": columns,
            "csv_rows": rows,
            "pandas": {"rows": len(frame), "dtypes": {k: str(v) for k, v in frame.dtypes.items()}},
            "json": loaded,
        }, f, ensure_ascii=True, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
