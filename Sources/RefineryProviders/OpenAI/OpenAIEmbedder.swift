// OpenAI-compatible embeddings: POST {base}/v1/embeddings with every text in one `input` array.

package import RefineryCompiler
package import RefineryRuntime

/// Embeds texts through an OpenAI-compatible `/v1/embeddings` endpoint.
package struct OpenAIEmbedder: Embedder {
    package let client: WireClient
    package let baseURL: String
    package let apiKey: String?
    package let extraHeaders: [(String, String)]
    package let timeoutSeconds: Double

    package init(
        client: WireClient, baseURL: String, apiKey: String?, extraHeaders: [(String, String)] = [],
        timeoutSeconds: Double = 120
    ) {
        self.client = client
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.extraHeaders = extraHeaders
        self.timeoutSeconds = timeoutSeconds
    }

    package func embed(_ texts: [String], model: ModelRef) async throws -> [[Double]] {
        try await embeddings(texts, model: model).vectors
    }

    /// The vectors and the reply's `usage.prompt_tokens` (the documented reply has `usage` with
    /// `prompt_tokens` and `total_tokens`; embeddings bill input only), estimated when it has none.
    package func embeddings(_ texts: [String], model: ModelRef) async throws -> Embeddings {
        guard !texts.isEmpty else { return Embeddings(vectors: [], usage: TokenUsage()) }
        var headers = extraHeaders
        if let apiKey { headers.append(("authorization", "Bearer \(apiKey)")) }
        let json = try await client.send(
            WireCall(
                url: HTTPProviderSupport.join(baseURL, "/v1/embeddings"), headers: headers,
                body: ["model": .string(model.model), "input": .array(texts.map(JSONValue.string))],
                timeoutSeconds: timeoutSeconds, model: model.model,
                estimatedTokens: texts.reduce(0) { $0 + HTTPProviderSupport.estimateTokens($1) }))
        let vectors = try Self.parse(json, count: texts.count, provider: client.provider)
        return Embeddings(
            vectors: vectors, usage: Embeddings.usage(reported: json["usage"]?["prompt_tokens"]?.int, texts: texts))
    }

    /// The vectors of a reply, ordered by their `index`.
    package static func parse(_ json: JSONValue, count: Int, provider: String) throws -> [[Double]] {
        guard let data = json["data"]?.array else {
            throw ProviderError(
                code: .invalidResponse, message: "the \(provider) embeddings reply has no `data`", provider: provider)
        }
        let rows = data.enumerated().map { offset, item in
            (item["index"]?.int ?? offset, (item["embedding"]?.array ?? []).compactMap(\.double))
        }
        let vectors = rows.sorted { $0.0 < $1.0 }.map(\.1)
        guard vectors.count == count, vectors.allSatisfy({ !$0.isEmpty }) else {
            throw ProviderError(
                code: .invalidResponse, message: "\(provider) returned \(vectors.count) embeddings for \(count) texts",
                provider: provider)
        }
        return vectors
    }
}
