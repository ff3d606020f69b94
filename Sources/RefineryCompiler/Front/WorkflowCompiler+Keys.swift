// The keys the front end accepts, by section, for tests that keep the published JSON Schema
// (schemas/workflow.schema.json) in sync with the compiler.

extension WorkflowCompiler {
    /// Accepted keys by section path (`""` is the top level; `stages.evaluate` a stage's options).
    package static var acceptedKeys: [String: [String]] {
        var keys: [String: [String]] = [
            "": WorkflowBuilder.topLevelKeys,
            "models[]": WorkflowBuilder.memberKeys,
            "arbiter": WorkflowBuilder.arbiterKeys,
            "params": NodeReader.paramKeys,
            "iterations": WorkflowBuilder.iterationKeys,
            "limits": WorkflowBuilder.limitKeys,
            "convergence": WorkflowBuilder.convergenceKeys,
            "convergence.embedding": ["model"],
            "convergence.cache": ["size", "ttl"],
            "convergence.breaker": ["failures", "cooldown"],
            "prompt": WorkflowBuilder.promptKeys,
        ]
        for stage in StageName.allCases where stage != .repeat {
            keys["stages.\(stage.rawValue)"] = WorkflowBuilder.commonStageKeys + stage.specificKeys
        }
        return keys
    }

    /// Accepted words by value path: strategies, stage names, modes, contexts, protocols, outputs.
    package static var acceptedValues: [String: [String]] {
        [
            "convergence.strategy": StrategyName.allCases.map(\.rawValue),
            "convergence.mode": SemanticModeName.allCases.map(\.rawValue),
            "stages": StageName.allCases.map(\.rawValue),
            "stages.propose.context": ProposeStage.Context.allCases.map(\.rawValue),
            "stages.evaluate.mode": EvaluateStage.Mode.allCases.map(\.rawValue),
            "stages.refine.protocol": RefineStage.RefineProtocol.allCases.map(\.rawValue),
            "output": OutputSelection.allCases.map(\.rawValue),
            "params.reasoning_effort": ReasoningEffort.allCases.map(\.rawValue),
        ]
    }
}

extension WorkflowCompiler {
    /// Whether `name` is a valid workflow name (`[a-z0-9][a-z0-9_-]*`, at most 128 characters), as `name:` requires.
    package static func isValidWorkflowName(_ name: String) -> Bool {
        WorkflowBuilder.isValidName(name)
    }

    /// What a workflow name may be, in words, for messages.
    package static var workflowNameRule: String { WorkflowBuilder.nameRule }
}
