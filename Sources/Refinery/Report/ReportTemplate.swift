// The report's HTML frame, a Mustache template. Text goes in with {{ }} (escaped by Mustache); only the
// SVG charts and word diffs, built and escaped in Swift, go in with {{{ }}}. The page has no script, and
// its Content-Security-Policy forbids any fetch, so it reads the same from file:// offline and on paper.

import Mustache

enum ReportTemplate {
    static func render(_ context: [String: Any]) -> String {
        switch template {
        case .success(let template): template.render(context)
        case .failure(let error):
            "<!doctype html><title>report</title><p>report template error: \(HTMLText.escape("\(error)"))</p>"
        }
    }

    private static let template: Result<MustacheTemplate, any Error> = Result { try MustacheTemplate(string: source) }

    static let source = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Refinery report · {{title}}</title>
        <style>
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1120px; color: #1d1d1f; padding: 0 16px; }
        h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 28px; }
        h3 { font-size: 15px; margin: 18px 0 6px; }
        .status { display: inline-block; padding: 2px 8px; border-radius: 10px; background: #e8eef8; font-weight: 600; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
        dl.facts dt { color: #666; } dl.facts dd { margin: 0; }
        pre, .answer { white-space: pre-wrap; word-wrap: break-word; background: #f6f6f8; padding: 8px 10px; border-radius: 6px; font: 13px/1.4 ui-monospace, Menlo, monospace; }
        table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; } th { background: #f2f2f4; }
        .degraded { color: #a33; }
        svg text { font: 11px system-ui, sans-serif; fill: #333; }
        svg .grid { stroke: #eee; } svg .bar.ok { fill: #4a7bd0; } svg .bar.failed { fill: #d04a4a; }
        svg .bar.retried { stroke: #e0a000; stroke-width: 2; } svg .bar.critical { stroke: #111; stroke-width: 1.5; }
        svg .retry { fill: #b07800; } svg .threshold { stroke: #d04a4a; stroke-dasharray: 6 4; }
        svg .score { font-size: 10px; } svg.timeline { width: 100%; height: auto; }
        ins { background: #d6f5d6; text-decoration: none; } del { background: #f8d4d4; }
        details { margin: 6px 0; } summary { cursor: pointer; }
        @media print { details > * { display: block; } body { margin: 0; max-width: none; } h2 { break-after: avoid; } svg { break-inside: avoid; } }
        </style>
        </head>
        <body>
        <header>
        <h1>{{workflow}} <span class="status">{{status}}</span></h1>
        <dl class="facts">
        <dt>run</dt><dd>{{runID}}</dd>
        {{#stoppedBy}}<dt>stopped by</dt><dd>{{stoppedBy}}</dd>{{/stoppedBy}}
        {{#error}}<dt>error</dt><dd class="degraded">{{error}}</dd>{{/error}}
        {{#revision}}<dt>revision</dt><dd>{{revision}}</dd>{{/revision}}
        <dt>members</dt><dd>{{members}}</dd>
        {{#arbiter}}<dt>arbiter</dt><dd>{{arbiter}}</dd>{{/arbiter}}
        <dt>cost</dt><dd>{{cost}}</dd>
        <dt>calls</dt><dd>{{calls}}</dd>
        <dt>tokens</dt><dd>{{tokens}}</dd>
        <dt>started</dt><dd>{{started}}</dd>
        <dt>elapsed</dt><dd>{{elapsed}}</dd>
        {{#coverage}}<dt>coverage</dt><dd>{{coverage}}</dd>{{/coverage}}
        {{#degradations.0}}<dt>degraded</dt><dd class="degraded"><ul>{{#degradations}}<li>{{.}}</li>{{/degradations}}</ul></dd>{{/degradations.0}}
        </dl>
        <h3>Prompt</h3>
        <pre class="prompt">{{prompt}}</pre>
        {{#winner}}<h3>Answer — {{member}}{{#degraded}} <span class="degraded">(best so far)</span>{{/degraded}}</h3><div class="answer winner">{{answer}}</div>{{/winner}}
        </header>

        <h2>Call timeline</h2>
        <p>One lane per participant, one bar per call from start to end. Red: failed; amber outline and ↻: retried; black outline: the critical path.</p>
        {{{timeline}}}

        {{#means}}<h2>Mean score per member</h2><p>Dashed red line: the convergence threshold.</p>{{{means}}}{{/means}}

        {{#rounds}}
        <section class="round">
        <h2>Round {{round}}</h2>
        {{#decision}}<p class="decision"><strong>Decision:</strong> {{decision}}</p>{{/decision}}
        {{#heatmap}}<h3>Scores ({{reviews}} reviews)</h3>{{{heatmap}}}{{/heatmap}}
        {{#answers.0}}<h3>Answers</h3>{{/answers.0}}
        {{#answers}}
        <details open><summary>{{member}} · mean score {{score}}{{#unchanged}} · unchanged{{/unchanged}}</summary>
        {{#diff}}<div class="answer diff">{{{diff}}}</div>{{/diff}}{{^diff}}<div class="answer">{{answer}}</div>{{/diff}}
        </details>
        {{/answers}}
        </section>
        {{/rounds}}

        {{#arbiterNotes}}
        <h2>{{heading}}</h2>
        {{#synthesis}}<div class="answer synthesis">{{synthesis}}</div><p>confidence {{confidence}}</p>{{/synthesis}}
        {{#dissent}}<h3>Dissent</h3><div class="answer">{{dissent}}</div>{{/dissent}}
        {{#refinement.0}}<h3>Refinement areas</h3><ul>{{#refinement}}<li>{{.}}</li>{{/refinement}}</ul>{{/refinement.0}}
        {{#questions.0}}<ul>{{#questions}}<li>{{.}}</li>{{/questions}}</ul>{{/questions.0}}
        {{/arbiterNotes}}

        {{#vote}}
        <h2>Vote (round {{round}}, {{extract}})</h2>
        <p>Winner: <strong>{{winner}}</strong> with {{share}} of the answers.</p>
        <table><tr><th>answer</th><th>votes</th><th>members</th></tr>
        {{#distribution}}<tr><td>{{answer}}</td><td>{{votes}}</td><td>{{members}}</td></tr>{{/distribution}}
        </table>
        {{#abstentions}}<p>Abstained: {{abstentions}}</p>{{/abstentions}}
        {{/vote}}

        <h2>Cost and tokens per participant</h2>
        <table class="cost"><tr><th>participant</th><th>calls</th><th>failed</th><th>cost</th><th>input tokens</th><th>output tokens</th></tr>
        {{#perMember}}<tr><td>{{member}}</td><td>{{calls}}</td><td>{{failed}}</td><td>{{cost}}</td><td>{{input}}</td><td>{{output}}</td></tr>{{/perMember}}
        </table>
        <footer><p>Generated by refinery report from the run ledger.</p></footer>
        </body>
        </html>
        """
}
