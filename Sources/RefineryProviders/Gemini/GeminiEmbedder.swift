// Gemini embeddings: `:embedContent` for one text, `:batchEmbedContents` for several.

package import RefineryCompiler
import RefineryRuntime

/// Embeds texts through the Gemini API.
package struct GeminiEmbedder: Embedder {
    package let client: WireClient
    package let baseURL: String
    package let apiKey: String
    package let timeoutSeconds: Double

    package init(client: WireClient, baseURL: String, apiKey: String, timeoutSeconds: Double = 120) {
        self.client = client
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.timeoutSeconds = timeoutSeconds
    }

    package func embed(_ texts: [String], model: ModelRef) async throws -> [[Double]] {
        guard !texts.isEmpty else { return [] }
        let path = GeminiProvider.modelPath(model.model)
        let single = texts.count == 1
        func content(_ text: String) -> JSONValue { ["parts": [["text": .string(text)]]] }
        let body: JSONValue =
            single
            ? ["content": content(texts[0])]
            : ["requests": .array(texts.map { ["model": .string(path), "content": content($0)] })]
        let json = try await client.send(
            WireCall(
                url: HTTPProviderSupport.join(
                    baseURL, "/v1beta/\(path):\(single ? "embedContent" : "batchEmbedContents")"),
                headers: [("x-goog-api-key", apiKey)], body: body, timeoutSeconds: timeoutSeconds, model: model.model,
                estimatedTokens: texts.reduce(0) { $0 + HTTPProviderSupport.estimateTokens($1) }))
        let items = single ? [json["embedding"]].compactMap { $0 } : (json["embeddings"]?.array ?? [])
        let vectors = items.map { ($0["values"]?.array ?? []).compactMap(\.double) }
        guard vectors.count == texts.count, vectors.allSatisfy({ !$0.isEmpty }) else {
            throw ProviderError(
                code: .invalidResponse,
                message: "\(client.provider) returned \(vectors.count) embeddings for \(texts.count) texts",
                provider: client.provider)
        }
        return vectors
    }
}
