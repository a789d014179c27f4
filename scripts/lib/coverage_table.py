"""Line coverage per workspace crate, from cargo-llvm-cov's JSON summary (`llvm-cov export`).

    python3 scripts/lib/coverage_table.py SUMMARY.json

Prints a markdown table (one row per crate, then the workspace) and exits 1 when the workspace,
or a crate under domain/, application/ or adapters/, is below the floor. Those hold the rules
and the translations a template's user changes; bootstrap and migrations are mostly wiring,
whose lines run in the binaries the integration tests start, so they are shown but not held.
"""

import json
import subprocess
import sys
from pathlib import Path

FLOOR = 80.0
HELD = ("domain", "application", "adapters")


def workspace_crates():
    """(directory, name, held) for every member, the deepest directory first."""
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--no-deps", "--format-version", "1", "--locked"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    root = Path(metadata["workspace_root"])
    crates = []
    for package in metadata["packages"]:
        directory = Path(package["manifest_path"]).parent
        held = directory.relative_to(root).parts[0] in HELD
        crates.append((directory, package["name"], held))
    return sorted(crates, key=lambda crate: len(crate[0].parts), reverse=True)


def main(summary_path):
    files = json.loads(Path(summary_path).read_text())["data"][0]["files"]
    crates = workspace_crates()
    counts = {name: [0, 0] for _, name, _ in crates}
    for entry in files:
        path = Path(entry["filename"])
        lines = entry["summary"]["lines"]
        for directory, name, _ in crates:
            if path.is_relative_to(directory):
                counts[name][0] += lines["count"]
                counts[name][1] += lines["covered"]
                break

    def percent(count, covered):
        return 100.0 * covered / count if count else 100.0

    failures = []
    print(f"| crate | lines | covered | % | floor {FLOOR:.0f}% |")
    print("|---|---:|---:|---:|---|")
    for _, name, held in sorted(crates, key=lambda crate: str(crate[0])):
        count, covered = counts[name]
        if count == 0:
            continue
        share = percent(count, covered)
        verdict = "" if not held else ("met" if share >= FLOOR else "**below**")
        if held and share < FLOOR:
            failures.append(name)
        print(f"| {name} | {count} | {covered} | {share:.1f} | {verdict} |")
    count = sum(c for c, _ in counts.values())
    covered = sum(c for _, c in counts.values())
    share = percent(count, covered)
    if share < FLOOR:
        failures.append("the workspace")
    print(f"| **workspace** | {count} | {covered} | {share:.1f} | {'met' if share >= FLOOR else '**below**'} |")
    if failures:
        print(f"coverage below {FLOOR:.0f}% of lines: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
