// The stable codes of the compiler front end's diagnostics. docs/diagnostics.md documents
// each one; a code is never reused for a different problem.

/// Diagnostic codes raised by ``WorkflowCompiler`` and ``ModelCatalog/load(yaml:file:)``.
package enum FrontCode {
    // Structure and types.
    /// A required key is missing.
    package static let missingKey = "E100"
    /// A value has the wrong type (e.g. a mapping where a string is expected).
    package static let wrongType = "E101"
    /// A key that this mapping does not take.
    package static let unknownKey = "E102"
    /// `refinery:` names a format this version does not read.
    package static let unsupportedFormat = "E103"
    /// `name:` does not match `[a-z0-9][a-z0-9_-]*`.
    package static let invalidName = "E104"
    /// A number outside its allowed range (counts below 1, negative budget, ...).
    package static let outOfRange = "E105"
    /// A word that is not one of the allowed values (strategy, mode, context, ...).
    package static let invalidValue = "E106"
    /// A duration that is not `90s`, `2m`, `1h`, `500ms` or a number of seconds.
    package static let invalidDuration = "E107"
    /// The file holds no workflow.
    package static let emptyFile = "E108"

    // Models and members.
    /// A model string the catalog does not know.
    package static let unknownModel = "E200"
    /// A malformed model string (`model:`, `:2`, `gpt-4o:0`).
    package static let invalidModelString = "E201"
    /// A member name that cannot be used as an id.
    package static let invalidMemberName = "E203"
    /// `models:` is empty or missing.
    package static let noMembers = "E204"
    /// `limits.quorum` exceeds the number of members.
    package static let quorumTooLarge = "E205"

    // Stages.
    /// A stage name that does not exist.
    package static let unknownStage = "E300"
    /// A stage mapping with zero or several keys.
    package static let malformedStage = "E301"
    /// `close` outside a `repeat` block.
    package static let closeOutsideRepeat = "E302"
    /// A second `repeat` block.
    package static let multipleRepeats = "E303"
    /// A `repeat` inside a `repeat`.
    package static let nestedRepeat = "E304"
    /// An empty `stages:` or `repeat:` list.
    package static let emptyStages = "E305"
    /// `by:` names no member.
    package static let unknownParticipant = "E306"
    /// A stage needs an arbiter and the workflow declares none.
    package static let missingArbiter = "E307"
    /// `output: synthesis` without a `synthesize` stage.
    package static let outputWithoutSynthesis = "E308"
    /// The `confidence` strategy without a `synthesize` stage.
    package static let confidenceWithoutSynthesis = "E309"
    /// The `agreement` strategy without a `vote` stage.
    package static let agreementWithoutVote = "E310"
    /// A `vote` stage's `extract` that cannot be used: a regular expression that does not compile, an empty
    /// JSON path.
    package static let invalidExtraction = "E311"
    /// A stage that works on the members' answers (`evaluate`, `refine`, `synthesize`, `verify`, `vote`) with no
    /// `propose` before it: it would have nothing to work on, make no call, and the run would end without an answer.
    package static let nothingToWorkOn = "E312"

    // Iterations and convergence.
    /// `iterations.min` is greater than `iterations.max`.
    package static let minAboveMax = "E400"
    /// A threshold outside its strategy's range.
    package static let thresholdRange = "E401"
    /// An option that belongs to another convergence strategy.
    package static let strategyOption = "E402"
    /// `char_low` is not below `char_high`.
    package static let cascadeOrder = "E403"

    // Extends and files.
    /// `extends:` names a workflow that cannot be found.
    package static let unknownBase = "E500"
    /// `extends:` forms a cycle.
    package static let extendsCycle = "E501"
    /// The base workflow could not be loaded.
    package static let baseUnreadable = "E502"
    /// A prompt file could not be read.
    package static let promptUnreadable = "E503"
    /// A prompt file is not UTF-8.
    package static let promptNotUTF8 = "E504"
    /// A prompt gives both `file` and `user`.
    package static let promptConflict = "E505"
    /// A prompt file path that is absolute or leaves the workflow's folder (`..`, a symlink).
    package static let promptOutsideFolder = "E506"
    /// A prompt file larger than 1 MiB.
    package static let promptTooLarge = "E507"
    /// A prompt template names a variable its stage does not provide.
    package static let unknownTemplateVariable = "E508"
    /// A prompt template shows a list or an object as text (`{{answer}}` of an object).
    package static let templateShowsCollection = "E509"
    /// A prompt template includes a partial (`{{> name}}`) or a parent (`{{< name}}`), which are never loaded.
    package static let templatePartial = "E510"

    // Catalog override file.
    /// A catalog model reference is not `provider/model`.
    package static let catalogModelRef = "E600"

    // Warnings.
    /// A `repeat` block without `close` always runs `iterations.max` rounds.
    package static let repeatWithoutClose = "W700"
    /// A score-based strategy with no `evaluate` stage can never converge.
    package static let scoresWithoutEvaluate = "W701"
    /// `output: winner` with no `evaluate` stage to score answers.
    package static let winnerWithoutEvaluate = "W702"
    /// A `close` stage with options (it makes no calls).
    package static let closeOptionsIgnored = "W703"
    /// An `evaluate` stage by members with fewer than two members: nobody has a peer to score.
    package static let evaluateWithoutPeers = "W704"
    /// A flag the workflow has no use for: `--arbiter` where no stage is performed by the arbiter, the round
    /// flags and `--threshold` where there is no `repeat` block.
    package static let flagWithoutEffect = "W705"
    /// A `--var` no prompt template of the workflow shows.
    package static let unusedVariable = "W706"
    /// `vote-threshold`'s `stability` is more rounds than `iterations.max`: the loop can never converge.
    package static let stabilityBeyondMax = "W707"
    /// `temperature` or `top_p` set for a Claude model that refuses sampling parameters (Opus 4.7 and later):
    /// the call is sent without it.
    package static let samplingNotSent = "W708"

    /// Every code, for documentation checks.
    package static let all: [String] = [
        missingKey,
        wrongType,
        unknownKey,
        unsupportedFormat,
        invalidName,
        outOfRange,
        invalidValue,
        invalidDuration,
        emptyFile,
        unknownModel,
        invalidModelString,
        invalidMemberName,
        noMembers,
        quorumTooLarge,
        unknownStage,
        malformedStage,
        closeOutsideRepeat,
        multipleRepeats,
        nestedRepeat,
        emptyStages,
        unknownParticipant,
        missingArbiter,
        outputWithoutSynthesis,
        confidenceWithoutSynthesis,
        agreementWithoutVote,
        invalidExtraction,
        nothingToWorkOn,
        minAboveMax,
        thresholdRange,
        strategyOption,
        cascadeOrder,
        unknownBase,
        extendsCycle,
        baseUnreadable,
        promptUnreadable,
        promptNotUTF8,
        promptConflict,
        promptOutsideFolder,
        promptTooLarge,
        unknownTemplateVariable,
        templateShowsCollection,
        templatePartial,
        catalogModelRef,
        repeatWithoutClose,
        scoresWithoutEvaluate,
        winnerWithoutEvaluate,
        closeOptionsIgnored,
        evaluateWithoutPeers,
        flagWithoutEffect,
        unusedVariable,
        stabilityBeyondMax,
        samplingNotSent,
    ]
}
