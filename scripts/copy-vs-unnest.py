"""COPY against the consumer's one-statement unnest insert, for the same clicks.

Writes two psql scripts into DIR (default /tmp/copy-vs-unnest) that store the same 100 batches of
2000 clicks, each batch one transaction as analytics-consumer stores it:
  unnest.sql  the consumer's statement (its arrays here as literals, which the server must parse;
              the consumer binds them in binary, so this side is if anything handicapped)
  copy.sql    COPY into a temporary staging table, then the same insert-and-count from it
Run each on an emptied schema and time it:
  python3 scripts/copy-vs-unnest.py /tmp/cvu
  psql "$URL" -qc 'TRUNCATE clicks, link_click_totals, click_daily_rollups'
  time psql "$URL" -q -f /tmp/cvu/unnest.sql >/dev/null     # then the same with copy.sql
"""
import os, sys
import uuid, random
random.seed(1)
out = sys.argv[1] if len(sys.argv) > 1 else '/tmp/copy-vs-unnest'
os.makedirs(out, exist_ok=True)
BATCHES, SIZE = 100, 2000
codes = ['c%07d' % i for i in range(1, 501)]
rows = []
for b in range(BATCHES):
    batch = []
    for i in range(SIZE):
        batch.append((str(uuid.uuid4()), random.choice(codes), '2026-11-%02d 10:00:00+00' % random.randint(1, 23),
                      random.choice(['US', 'DE', 'XX']), random.choice(['Desktop', 'Mobile', 'Bot']),
                      random.choice(['Direct', 'Social', 'Search']), '10.0.0.%d' % random.randint(1, 254),
                      'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', 'https://t.co/x'))
    rows.append(batch)
TAIL = """), inserted AS (
    INSERT INTO clicks (event_id, short_code, clicked_at, country_code, device_type, traffic_source, ip, user_agent, referer)
    SELECT event_id, short_code, clicked_at, country_code, device_type, traffic_source, ip::inet, user_agent, referer
    FROM batch ON CONFLICT (event_id) DO NOTHING
    RETURNING short_code, clicked_at, country_code, device_type, traffic_source
), totals AS (
    INSERT INTO link_click_totals AS t (short_code, clicks) SELECT short_code, count(*) FROM inserted GROUP BY short_code
    ON CONFLICT (short_code) DO UPDATE SET clicks = t.clicks + EXCLUDED.clicks
), rollups AS (
    INSERT INTO click_daily_rollups AS r (short_code, day, country_code, device_type, traffic_source, clicks)
    SELECT short_code, (clicked_at AT TIME ZONE 'UTC')::date, country_code, device_type, traffic_source, count(*)
    FROM inserted GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (short_code, day, country_code, device_type, traffic_source) DO UPDATE SET clicks = r.clicks + EXCLUDED.clicks
)
SELECT count(*) FROM inserted;
"""
cols = ['uuid', 'text', 'timestamptz', 'text', 'text', 'text', 'text', 'text', 'text']
with open(os.path.join(out, 'unnest.sql'), 'w') as f:
    for batch in rows:
        arrays = []
        for c, t in enumerate(cols):
            arrays.append("'{%s}'::%s[]" % (','.join('"%s"' % r[c] for r in batch), t))
        f.write("WITH batch AS (SELECT * FROM unnest(%s) AS b(event_id, short_code, clicked_at, country_code, device_type, traffic_source, ip, user_agent, referer)\n" % ', '.join(arrays))
        f.write(TAIL)
with open(os.path.join(out, 'copy.sql'), 'w') as f:
    for batch in rows:
        f.write("BEGIN;\nCREATE TEMP TABLE batch (event_id uuid, short_code text, clicked_at timestamptz, country_code text, device_type text, traffic_source text, ip text, user_agent text, referer text) ON COMMIT DROP;\n")
        f.write("COPY batch FROM STDIN;\n")
        for r in batch:
            f.write('\t'.join(r) + '\n')
        f.write('\\.\n')
        f.write("WITH x AS (SELECT 1" + TAIL.replace("FROM batch ON CONFLICT", "FROM batch ON CONFLICT", 1))
        f.write("COMMIT;\n")
