// Gemini's `responseSchema` accepts an OpenAPI 3.0 subset of JSON Schema. Keywords outside it
// make the API refuse the request, so schemas written for OpenAI are reduced first.

package import RefineryRuntime

/// Converts a JSON Schema to the subset Gemini's `responseSchema` accepts.
///
/// Kept: `type`, `format`, `title`, `description`, `nullable`, `enum`, `properties`,
/// `required`, `items`, `minItems`, `maxItems`, `minimum`, `maximum`, `minLength`, `maxLength`,
/// `pattern`, `anyOf`, `propertyOrdering`. Dropped: everything else (`$schema`, `$id`,
/// `additionalProperties`, `$defs`, `default`, `examples`, ...). `type: [T, "null"]` becomes
/// `type: T, nullable: true`; `const: X` becomes `enum: [X]`.
package enum GeminiSchema {
    static let kept: Set<String> = [
        "type", "format", "title", "description", "nullable", "enum", "properties", "required", "items", "minItems",
        "maxItems", "minimum", "maximum", "minLength", "maxLength", "pattern", "anyOf", "propertyOrdering",
    ]

    package static func convert(_ schema: JSONValue) -> JSONValue {
        guard case .object(let object) = schema else { return schema }
        var result: [String: JSONValue] = [:]
        for (key, value) in object {
            switch key {
            case "type":
                if case .array(let types) = value {
                    let nonNull = types.filter { $0 != "null" }
                    if nonNull.count < types.count { result["nullable"] = true }
                    result["type"] = nonNull.first ?? "string"
                } else {
                    result["type"] = value
                }
            case "const":
                result["enum"] = [value]
            case "properties":
                result["properties"] = .object((value.fields ?? []).map { (key: $0.key, value: convert($0.value)) })
            case "items":
                result["items"] = convert(value)
            case "anyOf":
                result["anyOf"] = .array((value.array ?? []).map(convert))
            default:
                if kept.contains(key) { result[key] = value }
            }
        }
        return JSONValue(result)
    }
}
