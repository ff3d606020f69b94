// Wiring the library into the compiler front end: `extends:` names resolve through the same
// search folders, prompt files are read from disk.

extension LocatedWorkflow {
    /// The compiler's input for this file.
    public var source: WorkflowSource {
        WorkflowSource(displayName: displayName, bytes: bytes, path: path)
    }
}

extension WorkflowLibrary {
    /// A compiler whose `extends:` lookups go through this library (names only; a path is refused)
    /// and whose prompt files are read with ``fileSystem`` (never from outside the workflow's folder),
    /// with `overrides` (the command line) as its last layer.
    public func compiler(
        catalog: ModelCatalog = .builtin, overrides: WorkflowOverrides = WorkflowOverrides()
    ) -> WorkflowCompiler {
        let library = self
        return WorkflowCompiler(
            catalog: catalog,
            resolveExtends: { name in
                do throws(WorkflowLibraryError) {
                    return try library.locate(name: name).source
                } catch  where error.code == .notFound {
                    return nil
                }
            },
            readFile: { path in try library.fileSystem.read(path) },
            realPath: library.fileSystem.realPath,
            overrides: overrides
        )
    }

    /// Locates and compiles `argument` (a name or a path) in one step.
    public func compile(_ argument: String, catalog: ModelCatalog = .builtin) throws(WorkflowLibraryError)
        -> CompileResult
    {
        compiler(catalog: catalog).compile(try locate(argument).source)
    }
}
