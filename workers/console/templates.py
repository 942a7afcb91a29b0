"""The console's HTML templates (Jinja2, autoescaped: article text is untrusted HTML).

They live in this module rather than as package data so an installed wheel always has
them. No template uses ``|safe``: every value goes through escaping.
"""

from __future__ import annotations

import jinja2

BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{% if refresh %}<meta http-equiv="refresh" content="{{ refresh }}">{% endif %}
<title>{{ title }} · newsflow</title>
<style>
  :root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f8f9fb; --accent:#2f5bd3; }
  * { box-sizing: border-box; }
  body { margin:0; font: 14px/1.45 system-ui, "Noto Sans", "Noto Sans Arabic", "DejaVu Sans", sans-serif;
         color:var(--fg); background:var(--bg); }
  header { background:#1d2330; color:#fff; padding:8px 18px; display:flex; gap:18px; align-items:center; }
  header a { color:#dfe6ff; text-decoration:none; } header a.on { color:#fff; font-weight:600; }
  header .brand { font-weight:700; color:#fff; margin-inline-end:12px; }
  main { padding:16px 18px; max-width:1280px; }
  h1 { font-size:20px; margin:4px 0 12px; } h2 { font-size:15px; margin:16px 0 6px; }
  table { border-collapse:collapse; background:#fff; width:100%; }
  th, td { border-bottom:1px solid var(--line); padding:5px 8px; text-align:start; vertical-align:top; }
  th { font-weight:600; color:var(--muted); font-size:12px; text-transform:uppercase; }
  td.n { text-align:end; font-variant-numeric: tabular-nums; }
  .muted { color:var(--muted); } .problem { background:#fdecea; border:1px solid #f5c2c0; padding:8px 12px; margin:8px 0; }
  .notice { background:#eef4ff; border:1px solid #c9d8ff; padding:8px 12px; margin:8px 0; }
  .card { background:#fff; border:1px solid var(--line); padding:10px 14px; margin-bottom:12px; }
  .grid { display:grid; grid-template-columns: minmax(0, 2fr) minmax(280px, 1fr); gap:16px; }
  .text { white-space:pre-wrap; font-size:17px; line-height:1.9; background:#fff; border:1px solid var(--line);
          padding:14px 18px; unicode-bidi:plaintext; }
  mark.ent { border-radius:3px; padding:1px 0; color:inherit; }
  mark.ent-PERSON { background:#ffe0b3; box-shadow: inset 0 -2px #f59e0b; }
  mark.ent-ORG { background:#d6e4ff; box-shadow: inset 0 -2px #2f5bd3; }
  mark.ent-LOC { background:#d3f5dc; box-shadow: inset 0 -2px #16a34a; }
  mark.ent-DATE { background:#f3dcff; box-shadow: inset 0 -2px #9333ea; }
  mark.ent-MISC { background:#e9e9e9; box-shadow: inset 0 -2px #6b7280; }
  .legend span { display:inline-block; padding:0 6px; margin-inline-end:4px; border-radius:3px; font-size:12px; }
  pre { white-space:pre-wrap; word-break:break-word; background:#fff; border:1px solid var(--line); padding:8px; font-size:12px; }
  form.inline { display:inline; } input, select { font:inherit; padding:2px 4px; }
  button { font:inherit; padding:3px 10px; cursor:pointer; }
  svg.chart rect { fill: var(--accent); }
  .tag { display:inline-block; background:#eef0f4; border-radius:3px; padding:0 5px; margin:1px; font-size:12px; }
</style>
</head>
<body>
<header>
  <span class="brand">newsflow</span>
  <a href="/" class="{{ 'on' if nav == 'pipeline' }}">Pipeline</a>
  <a href="/articles" class="{{ 'on' if nav == 'articles' }}">Articles</a>
  <a href="/dead-letters" class="{{ 'on' if nav == 'dead' }}">Dead letters</a>
</header>
<main>
{% block body %}{% endblock %}
</main>
</body>
</html>
"""

PIPELINE = """{% extends "base.html" %}
{% block body %}
<h1>Pipeline <span class="muted" style="font-size:13px">{{ s.mode }} · broker {{ s.broker }} · store {{ s.redis }} · refreshes every {{ refresh }} s</span></h1>
{% for p in s.problems %}<div class="problem" role="alert">{{ p }}</div>{% endfor %}
<table id="stages">
<tr><th>stage</th><th>queued</th><th>in flight</th><th>events / min</th><th>p50 ms</th><th>p95 ms</th>
<th>throughput (last {{ chart_minutes }} min, per {{ bucket_s }} s)</th><th>dead letters</th></tr>
{% for st in s.stages %}
<tr data-stage="{{ st.stage }}"{% if st.stage == bottleneck %} style="background:#fff7e6"{% endif %}>
  <td>{{ st.stage }}{% if st.stage == bottleneck %} <span class="tag">bottleneck</span>{% endif %}</td>
  <td class="n">{{ '?' if st.queue_depth is none else st.queue_depth }}</td>
  <td class="n">{{ '?' if st.in_flight is none else st.in_flight }}</td>
  <td class="n">{{ '?' if st.events_last_minute is none else st.events_last_minute }}</td>
  <td class="n">{{ '-' if st.p50_ms is none else '%.1f' % st.p50_ms }}</td>
  <td class="n">{{ '-' if st.p95_ms is none else '%.1f' % st.p95_ms }}</td>
  <td>{% set c = charts[st.stage] %}
    <svg class="chart" width="{{ c.width }}" height="{{ c.height }}" viewBox="0 0 {{ c.width }} {{ c.height }}" role="img"
         aria-label="{{ c.total }} events, peak {{ c.peak }} per bucket">
      <line x1="0" y1="{{ c.height - 0.5 }}" x2="{{ c.width }}" y2="{{ c.height - 0.5 }}" stroke="#d0d5dd"/>
      {% for b in c.bars %}{% if b.h %}<rect x="{{ b.x }}" y="{{ b.y }}" width="{{ b.w }}" height="{{ b.h }}"><title>{{ b.count }}</title></rect>{% endif %}{% endfor %}
    </svg> <span class="muted">{{ c.total }}</span></td>
  <td class="n">{% if st.dead_letters %}<a href="/dead-letters?stage={{ st.stage | urlencode }}">{{ st.dead_letters }}</a>{% else %}0{% endif %}</td>
</tr>
{% endfor %}
</table>
<div class="card" style="margin-top:12px">
  Done in the last minute: <b>{{ s.done_last_minute }}</b> ·
  Store: <b>{{ '?' if s.store_size is none else s.store_size }}</b> document(s) ·
  Dead letters: <b>{{ s.dead_letters.values() | sum }}</b>
</div>
<h2>Workers</h2>
{% if s.workers is none %}<p class="muted">Unknown: the workers could not be asked.</p>
{% elif not s.workers %}<p class="muted">No worker answered within the timeout.{% if s.mode == 'embedded' %} In embedded mode workers run inside this process only while it processes articles.{% endif %}</p>
{% else %}
<table id="workers"><tr><th>worker</th><th>stages</th><th>queues</th></tr>
{% for w in s.workers %}<tr><td>{{ w.name }}</td><td>{% for x in w.stages %}<span class="tag">{{ x }}</span>{% endfor %}</td><td class="muted">{{ w.queues | join(', ') }}</td></tr>{% endfor %}
</table>{% endif %}
{% endblock %}
"""

ARTICLES = """{% extends "base.html" %}
{% block body %}
<h1>Articles</h1>
<form method="get" action="/articles" class="card">
  <label>Search id <input name="q" value="{{ v.filters.q }}" size="28"></label>
  <label>Language <select name="language"><option value="">any</option>
    {% for l in v.languages %}<option value="{{ l }}" {{ 'selected' if l == v.filters.language }}>{{ l }}</option>{% endfor %}</select></label>
  <label>Topic <select name="topic"><option value="">any</option>
    {% for t in v.topics %}<option value="{{ t }}" {{ 'selected' if t == v.filters.topic }}>{{ t }}</option>{% endfor %}</select></label>
  <label>Entity <input name="entity" value="{{ v.filters.entity }}" size="18"></label>
  <button type="submit">Filter</button> <a href="/articles">reset</a>
</form>
{% if v.exact_id %}<div class="notice">Article <a href="/articles/{{ v.exact_id | urlencode }}">{{ v.exact_id }}</a> is in the store.</div>{% endif %}
<table id="articles">
<tr><th>done (UTC)</th><th>id</th><th>title</th><th>lang</th><th>topics</th><th>entities</th><th>chars</th></tr>
{% for r in v.rows %}
<tr><td class="muted">{{ r.done_at }}</td>
  <td><a href="/articles/{{ r.id | urlencode }}">{{ r.id }}</a>{% if r.derived_from %}<br><span class="muted">split from {{ r.derived_from }}</span>{% endif %}</td>
  <td dir="auto">{{ r.title or '' }}</td><td>{{ r.language or '-' }}</td>
  <td>{% for t in r.topics[:3] %}<span class="tag">{{ t }}</span>{% endfor %}</td>
  <td dir="auto">{% for e in r.entities[:6] %}<span class="tag">{{ e }}</span>{% endfor %}{% if r.entities|length > 6 %} +{{ r.entities|length - 6 }}{% endif %}</td>
  <td class="n">{{ r.chars }}</td></tr>
{% else %}
<tr><td colspan="7" class="muted">No done article matches (looked at the newest {{ v.scanned }} done events).</td></tr>
{% endfor %}
</table>
{% endblock %}
"""

ARTICLE = """{% extends "base.html" %}
{% block body %}
{% set d = v.doc %}
<h1 dir="auto">{{ d.title or d.id }}</h1>
<p class="muted">{{ d.id }}{% if d.source %} · {{ d.source }}{% endif %}{% if d.url %} · {{ d.url }}{% endif %}{% if d.published_at %} · {{ d.published_at }}{% endif %}</p>
{% if v.dead %}<div class="problem">A later version of this article failed: <a href="/dead-letters/{{ v.dead[0] | urlencode }}">dead letter {{ v.dead[0] }}</a></div>{% endif %}
{% for w in d.warnings %}<div class="notice">{{ w }}</div>{% endfor %}
<div class="grid">
<section>
  <div class="legend">{% for l in v.labels %}<span class="ent-{{ l }}" style="display:inline-block"><mark class="ent ent-{{ l }}">{{ l }}</mark></span>{% endfor %}</div>
  <article id="text" class="text" dir="{{ v.dir }}"{% if v.lang %} lang="{{ v.lang }}"{% endif %}>{% for s in v.segments %}{% if s.entity %}<mark class="ent ent-{{ s.entity.label }}" data-label="{{ s.entity.label }}" data-start="{{ s.start }}" data-end="{{ s.end }}" title="{{ s.entity.label }}{% if s.entity.canonical_id %} · {{ s.entity.canonical_id }}{% endif %}{% if s.entity.value %} · {{ s.entity.value }}{% endif %}">{{ s.text }}</mark>{% else %}{{ s.text }}{% endif %}{% endfor %}</article>
  {% if v.skipped %}<div class="problem">{{ v.skipped | length }} mention(s) not drawn:
    {% for e, why in v.skipped %}<br>{{ e.text }} [{{ e.label }}] {{ e.start }}..{{ e.end }}: {{ why }}{% endfor %}</div>{% endif %}
  <h2>Removed by cleaning ({{ d.removed | length }})</h2>
  {% if d.removed %}<table id="removed"><tr><th>rule</th><th>reason</th><th>text</th></tr>
  {% for b in d.removed %}<tr><td>{{ b.rule }}</td><td>{{ b.reason }}{% if b.split_off %}<br>split off as {% if b.split_id %}<a href="/articles/{{ b.split_id | urlencode }}">{{ b.split_id }}</a>{% endif %}{% endif %}</td>
    <td dir="auto"><pre>{{ b.text }}</pre></td></tr>{% endfor %}</table>{% else %}<p class="muted">Nothing.</p>{% endif %}
</section>
<aside>
  <div class="card" id="language"><h2>Language</h2>
  {% if d.language %}<b>{{ d.language.name }}</b> ({{ d.language.code }}{% if d.language.script %}, {{ d.language.script }}{% endif %}) ·
    confidence {{ '%.2f' % d.language.confidence }}{% if d.language.variant %} · {{ d.language.variant }}{% endif %}{% if d.language.decided_by %} · <span class="muted">decided by {{ d.language.decided_by }}</span>{% endif %}
    {% if not d.language.reliable %} <span class="tag">unreliable</span>{% endif %}
    {% for a in d.language.alternatives[:3] %}<br><span class="muted">also {{ a.get('code', '?') }} {{ a.get('confidence', a.get('score', '')) }}</span>{% endfor %}
  {% else %}<span class="muted">not decided</span>{% endif %}</div>
  <div class="card" id="topics"><h2>Topics</h2>
  {% for t in d.topics %}<div>{{ t.label }} <span class="muted">{{ t.code }}</span> <b>{{ '%.2f' % t.score }}</b></div>{% else %}<span class="muted">none</span>{% endfor %}</div>
  <div class="card" id="entities"><h2>Entities</h2>
  <table>{% for e in v.entities %}<tr><td><mark class="ent ent-{{ e.label }}">{{ e.label }}</mark></td><td dir="auto">{{ e.name }}{% if e.count > 1 %} ×{{ e.count }}{% endif %}</td>
    <td class="muted">{{ e.canonical_id or '' }}</td></tr>{% else %}<tr><td class="muted">none</td></tr>{% endfor %}</table></div>
  <div class="card" id="provenance"><h2>Provenance</h2>
  <table><tr><th>stage</th><th>version</th><th>ms</th><th>status</th></tr>
  {% for p in d.provenance %}<tr><td>{{ p.stage }}</td><td>{{ p.version }}</td><td class="n">{{ '%.1f' % p.ms }}</td><td>{{ p.status }}{% if p.note %}<br><span class="muted">{{ p.note }}</span>{% endif %}</td></tr>{% endfor %}</table></div>
  <div class="card" id="duplicates"><h2>Duplicates</h2>
  {% if d.duplicate %}{% if d.duplicate.seen_before %}<div>Exact copy seen before.</div>{% endif %}
    {% if d.duplicate.near_duplicate_of %}<div>Duplicate of <a href="/articles/{{ d.duplicate.near_duplicate_of | urlencode }}">{{ d.duplicate.near_duplicate_of }}</a></div>
    {% elif not d.duplicate.seen_before %}<div class="muted">No earlier copy known.</div>{% endif %}
    <div class="muted" style="font-size:12px">key {{ d.duplicate.content_key }}</div>{% else %}<span class="muted">not computed</span>{% endif %}
  {% if d.derived_from %}<div>Split from <a href="/articles/{{ d.derived_from | urlencode }}">{{ d.derived_from }}</a></div>{% endif %}
  {% for c in d.derived_ids %}<div>Split off: <a href="/articles/{{ c | urlencode }}">{{ c }}</a></div>{% endfor %}</div>
</aside>
</div>
{% endblock %}
"""

DEAD_LETTERS = """{% extends "base.html" %}
{% block body %}
<h1>Dead letters</h1>
{% if message %}<div class="notice" role="status">{{ message }}</div>{% endif %}
<p>{% for st, n in v.counts | dictsort %}<a class="tag" href="/dead-letters?stage={{ st | urlencode }}">{{ st }}: {{ n }}</a> {% endfor %}
{% if v.stage %}<a href="/dead-letters">all stages</a>{% endif %}</p>
<table id="letters"><tr><th>entry</th><th>stage</th><th>article</th><th>error</th><th>attempts</th><th>failed at</th><th></th></tr>
{% for eid, l in v.letters %}
<tr><td><a href="/dead-letters/{{ eid | urlencode }}">{{ eid }}</a></td><td>{{ l.stage }}</td><td>{{ l.article_id or '-' }}</td>
  <td>[{{ l.code }}] {{ l.error_type }}: {{ l.message }}</td><td class="n">{{ l.attempts }}</td><td class="muted">{{ l.failed_at }}</td>
  <td><form class="inline" method="post" action="/dead-letters/{{ eid | urlencode }}/replay"><button type="submit">Replay</button></form></td></tr>
{% else %}<tr><td colspan="7" class="muted">No dead letters.</td></tr>{% endfor %}
</table>
{% endblock %}
"""

DEAD_LETTER = """{% extends "base.html" %}
{% block body %}
{% set l = v.letter %}
<h1>Dead letter {{ v.entry_id }}</h1>
<div class="card"><b>[{{ l.code }}] {{ l.error_type }}</b>: {{ l.message }}<br>
stage {{ l.stage }} · article {% if l.article_id %}<a href="/articles/{{ l.article_id | urlencode }}">{{ l.article_id }}</a>{% else %}-{% endif %}
· attempts {{ l.attempts }} · failed at {{ l.failed_at }}{% if l.remaining %} · then {{ l.remaining | join(', ') }}{% endif %}
<form method="post" action="/dead-letters/{{ v.entry_id | urlencode }}/replay" style="margin-top:8px"><button type="submit">Replay from {{ l.stage }}</button>
<span class="muted">(same as <code>newsflow dlq replay {{ v.entry_id }}</code>)</span></form></div>
<h2>Traceback</h2><pre id="traceback">{{ l.traceback or '(none)' }}</pre>
<h2>Payload</h2><pre id="payload">{{ v.payload }}</pre>
{% endblock %}
"""

MESSAGE = """{% extends "base.html" %}
{% block body %}<h1>{{ title }}</h1><div class="{{ kind }}" role="alert">{{ message }}</div>{% endblock %}
"""

ENV = jinja2.Environment(
    loader=jinja2.DictLoader(
        {
            "base.html": BASE,
            "pipeline.html": PIPELINE,
            "articles.html": ARTICLES,
            "article.html": ARTICLE,
            "dead_letters.html": DEAD_LETTERS,
            "dead_letter.html": DEAD_LETTER,
            "message.html": MESSAGE,
        }
    ),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def render(name: str, **context) -> str:
    """Render template ``name`` with ``context`` (all values HTML-escaped)."""
    context.setdefault("refresh", None)
    context.setdefault("nav", "")
    return ENV.get_template(name).render(**context)
