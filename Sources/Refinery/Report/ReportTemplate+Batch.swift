// The bodies of the batch and bench pages. Same rules as the run page: text through {{ }} (escaped by
// Mustache), only the SVG charts, built and escaped in Swift (ReportCharts), through {{{ }}}.

extension ReportTemplate {
    static let batchBody = """
        <header>
        <h1>Batch {{workflow}} <span class="status">{{status}}</span></h1>
        <dl class="facts">
        <dt>batch</dt><dd>{{batchID}}</dd>
        <dt>input</dt><dd>{{input}}</dd>
        <dt>input SHA-256</dt><dd>{{inputSHA256}}</dd>
        <dt>created</dt><dd>{{created}}</dd>
        <dt>done</dt><dd>{{done}} / {{total}}</dd>
        <dt>failed</dt><dd{{#first(failed)}} class="degraded"{{/first(failed)}}>{{failedCount}}</dd>
        {{#degradedCount}}<dt>degraded</dt><dd class="degraded">{{degradedCount}} answered with members, calls or reviews lost</dd>{{/degradedCount}}
        {{#fallbackCount}}<dt>fallback</dt><dd class="degraded">{{fallbackCount}} answered by a fallback model</dd>{{/fallbackCount}}
        <dt>cost</dt><dd>{{cost}}</dd>
        <dt>calls</dt><dd>{{calls}}</dd>
        <dt>tokens</dt><dd>{{tokens}}</dd>
        <dt>latency</dt><dd>{{latency}}</dd>
        </dl>
        {{#first(revisions)}}<h3>Workflow revisions</h3><table class="revisions"><tr><th>workflow</th><th>git commit</th><th>content SHA-256</th></tr>
        {{#revisions}}<tr><td>{{key}}</td><td>{{commit}}</td><td>{{sha}}</td></tr>{{/revisions}}</table>{{/first(revisions)}}
        </header>

        <h2>Cost per item</h2>
        <p>Items whose run came to an end (answered or failed) by their run's cost; items in flight, cancelled or cut by the budget are left out.</p>
        {{{costHistogram}}}
        <h2>Latency per item</h2>
        <p>Items by their run's wall time.</p>
        {{{latencyHistogram}}}

        {{#first(failed)}}
        <h2>Failed items</h2>
        <p>Items whose run ended without an answer.</p>
        <table class="failed"><tr><th>item</th><th>status</th><th>run</th><th>error</th></tr>
        {{#failed}}<tr><td>{{item}}</td><td>{{status}}</td><td>{{run}}</td><td class="degraded">{{error}}</td></tr>{{/failed}}
        </table>
        {{/first(failed)}}

        <h2>Items</h2>
        <table class="items"><tr><th>item</th><th>status</th><th>cost</th><th>latency</th><th>run</th><th>answered by</th></tr>
        {{#items}}<tr class="item"><td>{{item}}</td><td>{{status}}</td><td class="num">{{cost}}</td><td class="num">{{latency}}</td><td>{{run}}</td><td>{{producer}}</td></tr>{{/items}}
        </table>
        {{#omitted}}<p class="note">{{omitted}}</p>{{/omitted}}

        """

    static let benchBody = """
        <header>
        <h1>Bench <span class="status">{{status}}</span></h1>
        <dl class="facts">
        <dt>bench</dt><dd>{{benchID}}</dd>
        <dt>dataset</dt><dd>{{dataset}}</dd>
        <dt>dataset SHA-256</dt><dd>{{datasetSHA256}}</dd>
        <dt>items</dt><dd>{{items}}</dd>
        <dt>grader</dt><dd>{{grader}}</dd>
        <dt>created</dt><dd>{{created}}</dd>
        <dt>done</dt><dd>{{done}} / {{total}} runs</dd>
        <dt>cost</dt><dd>{{cost}}</dd>
        {{#baseline}}<dt>baseline</dt><dd>{{baseline}}</dd>{{/baseline}}
        </dl>
        {{#first(revisions)}}<h3>Workflow revisions</h3><table class="revisions"><tr><th>system</th><th>git commit</th><th>content SHA-256</th></tr>
        {{#revisions}}<tr><td>{{key}}</td><td>{{commit}}</td><td>{{sha}}</td></tr>{{/revisions}}</table>{{/first(revisions)}}
        </header>

        <h2>Accuracy against cost</h2>
        <p>One point per system: accuracy over the mean cost per item, the bar its 95 % Wilson interval.</p>
        {{{scatter}}}

        <h2>Systems</h2>
        <table class="systems"><tr><th>system</th><th>accuracy</th><th>95 % interval</th><th>correct</th><th>unanswered</th><th>cost</th><th>calls</th><th>tokens</th><th>mean latency</th><th>p95 latency</th><th>cost per correct</th></tr>
        {{#systems}}<tr class="system"><td>{{name}}</td><td class="num">{{accuracy}}</td><td class="num">{{ci}}</td><td class="num">{{correct}}</td><td class="num">{{unanswered}}</td><td class="num">{{cost}}</td><td class="num">{{calls}}</td><td class="num">{{tokens}}</td><td class="num">{{latencyMean}}</td><td class="num">{{latencyP95}}</td><td class="num">{{costPerCorrect}}</td></tr>{{/systems}}
        </table>

        {{#first(comparisons)}}
        <h2>Paired comparison with {{baseline}}</h2>
        <p>On the items both systems were graded on: won = this system right and the baseline wrong, lost = the reverse; p is the exact McNemar test.</p>
        <table class="comparisons"><tr><th>system</th><th>items</th><th>won</th><th>lost</th><th>McNemar p</th></tr>
        {{#comparisons}}<tr><td>{{name}}</td><td class="num">{{items}}</td><td class="num">{{won}}</td><td class="num">{{lost}}</td><td class="num">{{p}}</td></tr>{{/comparisons}}
        </table>
        {{/first(comparisons)}}

        {{#first(equalCost)}}
        <h2>Equal-cost samples</h2>
        <p>How many samples of a self-consistency baseline cost what the system costs per item.</p>
        <table class="equal-cost"><tr><th>system</th><th>baseline</th><th>cost per item</th><th>cost per sample</th><th>K</th></tr>
        {{#equalCost}}<tr><td>{{system}}</td><td>{{baseline}}</td><td class="num">{{perItem}}</td><td class="num">{{perSample}}</td><td class="num">{{samples}}</td></tr>{{/equalCost}}
        </table>
        {{/first(equalCost)}}

        <h2>Per-item correctness</h2>
        <p>✓ correct, ✗ wrong, – unanswered (counted wrong), blank: not run yet. Hover a cell for the answer.</p>
        <table class="grid"><tr><th>item</th>{{#heads}}<th>{{.}}</th>{{/heads}}</tr>
        {{#grid}}<tr><td>{{item}}</td>{{#cells}}<td class="mark {{kind}}" title="{{title}}">{{mark}}</td>{{/cells}}</tr>{{/grid}}
        </table>
        {{#omitted}}<p class="note">{{omitted}}</p>{{/omitted}}

        """
}
