// GENERATED from workflows/*.yaml by BuiltinWorkflowsTests. Do not edit: change the YAML files,
// then run `REFINERY_RECORD=1 REFINERY_LAYER=compiler swift test --filter BuiltinWorkflowsTests`.

package enum BuiltinWorkflows {
    /// Every built-in workflow, sorted by name.
    package static let all: [BuiltinWorkflow] = [
        BuiltinWorkflow(
            name: "consensus",
            text: #"""
                # yaml-language-server: $schema=../schemas/workflow.schema.json
                refinery: 1
                name: consensus
                version: 1.0.0
                description: >-
                  Refinery's consensus loop. Every round each member answers, seeing its own earlier answers and the
                  reviews they received; then each member scores every other member's answer 1-10 under shuffled labels
                  (never its own). Ends when the top mean score is at least 8.0 and the same member has led for 2 rounds.
                  Calls per round: N² (N answers + N(N−1) reviews), 9 for three members.
                models: [claude, codex, gemini]
                iterations: { min: 1, max: 5 }
                convergence: { strategy: vote-threshold, threshold: 8.0, stability: 2 }
                stages:
                  - repeat:
                      - propose: { context: own-history }
                      - evaluate: { mode: pairwise, anonymize: true }
                      - close
                output: winner

                """#
        ),
        BuiltinWorkflow(
            name: "consensus-classic",
            text: #"""
                # yaml-language-server: $schema=../schemas/workflow.schema.json
                refinery: 1
                name: consensus-classic
                version: 1.0.0
                description: >-
                  Refinery's original four-phase loop: propose, anonymous pairwise peer evaluation (1-10, no self-scores),
                  refine from the reviews received, close on a vote threshold of 8.0 held by the same leader for 2 rounds.
                  Calls per round: N² + N (N answers + N(N−1) reviews + N revisions), 12 for three members.
                models: [claude, codex, gemini]
                iterations: { min: 1, max: 5 }
                convergence: { strategy: vote-threshold, threshold: 8.0, stability: 2 }
                stages:
                  - repeat:
                      - propose
                      - evaluate: { mode: pairwise, anonymize: true }
                      - refine
                      - close
                output: winner

                """#
        ),
        BuiltinWorkflow(
            name: "consortium",
            text: #"""
                # yaml-language-server: $schema=../schemas/workflow.schema.json
                refinery: 1
                name: consortium
                version: 1.0.0
                description: >-
                  llm-consortium's arbiter loop: every member instance answers (from round 2 with the arbiter's last
                  synthesis and refinement areas), the arbiter synthesizes the answers with a confidence score, and the
                  loop ends when confidence reaches 0.8 and the arbiter does not ask for another iteration (1 to 3
                  iterations). Calls per iteration: N + 1.
                models: [claude, codex, gemini]
                arbiter: claude
                iterations: { min: 1, max: 3 }
                convergence: { strategy: confidence, threshold: 0.8 }
                stages:
                  - repeat:
                      - propose: { context: synthesis }
                      - synthesize
                      - close
                output: synthesis

                """#
        ),
        BuiltinWorkflow(
            name: "debate",
            text: #"""
                # yaml-language-server: $schema=../schemas/workflow.schema.json
                refinery: 1
                name: debate
                version: 1.0.0
                description: >-
                  Multi-agent debate (Du et al., 2023): members answer independently, then for a fixed number of rounds
                  each member reads its own and every other member's current answer and gives an updated one. The
                  debate ends with a plurality vote over the final answers (their last lines), as in the paper; a tie
                  goes to the answer given first in member order. Calls: N + rounds × N (9 for three members and
                  2 rounds).
                models: [claude, codex, gemini]
                system: Think the problem through step by step, then give your final answer alone on the last line.
                iterations: { min: 2, max: 2 }
                convergence: { strategy: none }
                stages:
                  - propose: { context: none }
                  - repeat:
                      - propose: { context: peers }
                      - close
                  - vote: { extract: last-line }
                output: winner

                """#
        ),
        BuiltinWorkflow(
            name: "moa",
            text: #"""
                # yaml-language-server: $schema=../schemas/workflow.schema.json
                refinery: 1
                name: moa
                version: 1.0.0
                description: >-
                  Mixture-of-Agents (Wang et al., 2024): a first layer of proposers answers independently; each further
                  layer (one per round) answers with every answer of the layer before it as auxiliary context; one
                  aggregator (the arbiter) synthesizes the last layer into the final answer. Three proposer layers by
                  default. Calls: layers × N + 1 (10 for three members).
                models: [claude, codex, gemini]
                arbiter: claude
                iterations: { min: 2, max: 2 }
                convergence: { strategy: none }
                stages:
                  - propose: { context: none }
                  - repeat:
                      - propose: { context: peers }
                      - close
                  - synthesize
                output: synthesis

                """#
        ),
        BuiltinWorkflow(
            name: "self-consistency",
            text: #"""
                # yaml-language-server: $schema=../schemas/workflow.schema.json
                refinery: 1
                name: self-consistency
                version: 1.0.0
                description: >-
                  Self-consistency (Wang et al., 2022) with adaptive stopping: one model samples five answers at
                  temperature 0.8, their final answers (the last lines) are counted, and sampling stops as soon as one
                  answer holds 60 % of every sample so far; otherwise five more, at most three batches. The most
                  common final answer wins. Calls: 5 to 15. For arithmetic, extend it with `extract: number`.
                models: [claude:5]
                system: Think the problem through step by step, then give your final answer alone on the last line.
                iterations: { min: 1, max: 3 }
                convergence: { strategy: agreement, threshold: 0.6 }
                stages:
                  - repeat:
                      - propose: { context: none, params: { temperature: 0.8 } }
                      - vote: { extract: last-line, over: all-rounds }
                      - close
                output: winner

                """#
        ),
        BuiltinWorkflow(
            name: "self-refine",
            text: #"""
                # yaml-language-server: $schema=../schemas/workflow.schema.json
                refinery: 1
                name: self-refine
                version: 1.0.0
                description: >-
                  ChatCLI's Self-Refine: one model drafts, then a refiner pass emits a critique and a revision
                  (drafts under 200 bytes are left alone). Passes stop when successive drafts converge under the
                  char → Jaccard → embedding cascade (char ≥ 0.99 converges, < 0.3 diverges, Jaccard ≥ 0.95, embedding
                  cosine ≥ 0.92 when an embedding model is set), with a regression guard that rolls back to the best
                  draft. Calls: 1 + passes (1 to 3).
                models: [claude]
                iterations: { min: 1, max: 3 }
                convergence:
                  strategy: semantic
                  char_high: 0.99
                  char_low: 0.3
                  jaccard_high: 0.95
                  threshold: 0.92
                  mode: permissive
                  cache: { size: 256, ttl: 5m }
                  breaker: { failures: 3, cooldown: 30s }
                stages:
                  - propose
                  - repeat:
                      - refine: { protocol: critique-revise, min_bytes: 200 }
                      - close
                output: draft

                """#
        ),
        BuiltinWorkflow(
            name: "verify",
            text: #"""
                # yaml-language-server: $schema=../schemas/workflow.schema.json
                refinery: 1
                name: verify
                version: 1.0.0
                description: >-
                  Factored Chain-of-Verification (Dhuliawala et al.): the model drafts an answer, plans k verification
                  questions about its claims, answers each question in a fresh context without seeing the draft, then
                  revises the draft from those answers. Calls: 1 + k + 2 per member (6 with k = 3).
                models: [claude]
                stages:
                  - propose
                  - verify: { by: members, questions: 3 }
                output: draft

                """#
        ),
        BuiltinWorkflow(
            name: "vote",
            text: #"""
                # yaml-language-server: $schema=../schemas/workflow.schema.json
                refinery: 1
                name: vote
                version: 1.0.0
                description: >-
                  Plurality vote: each member answers once, independently, and the final answer (the last line)
                  given by the most members wins; a tie goes to the answer given first in member order. The baseline
                  that debate and consensus have to beat. Calls: N (3 for three members).
                models: [claude, codex, gemini]
                system: Think the problem through step by step, then give your final answer alone on the last line.
                stages:
                  - propose: { context: none }
                  - vote: { extract: last-line }
                output: winner

                """#
        ),
    ]
}
