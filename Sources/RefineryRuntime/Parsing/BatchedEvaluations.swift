// What a batched review reply said about each label: the evaluations it holds, and why each other label has none.

/// The evaluations read from one batched reply, label by label.
///
/// A reply that scores some labels and misses (or garbles) others keeps the ones it scored: one lost label
/// must not take the others' scores with it.
package struct BatchedEvaluations: Sendable, Hashable {
    /// Label → the evaluation the reply gives it.
    package var evaluations: [String: Evaluation] = [:]
    /// Label → why the reply has no readable evaluation for it.
    package var unread: [String: String] = [:]

    /// Creates a reading.
    package init(evaluations: [String: Evaluation] = [:], unread: [String: String] = [:]) {
        self.evaluations = evaluations
        self.unread = unread
    }
}
