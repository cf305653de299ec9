namespace KdGat.Core.Engine;

/// <summary>
/// The last pipelines this process loaded, for the next build in the same process: the MSBuild
/// server, a reused node or an IDE runs build after build, and loading a pipeline of 7,800
/// instances (configuration, graph, every instance with its path checks) was about a fifth of a
/// warm no-op there. An entry is handed out only while its configuration sources are unchanged (every file's
/// bytes, every expanded environment variable: <see cref="Config.ConfigSources"/>), every
/// file-system answer its load got is the same (a symlink before '..': <see cref="LoadedPipeline.Observed"/>) and the tools are
/// what its fingerprints of <c>{tools}</c> say; a load depends on nothing else but the request, which is the key. In a process that runs one build (the
/// default `dotnet msbuild`) nothing is ever found here.
/// </summary>
internal static class LoadedPipelineCache
{
    /// <summary>Two: a user alternating between two selections (-p:Dataset) keeps both; more would only hold memory.</summary>
    private const int Capacity = 2;
    private static readonly LinkedList<(string Key, LoadedPipeline Pipeline)> Entries = new();

    /// <summary>The pipeline loaded for <paramref name="key"/> when its sources are unchanged; a stale entry is dropped.</summary>
    public static LoadedPipeline? Get(string key)
    {
        LoadedPipeline? found = null;
        lock (Entries)
            for (var node = Entries.First; node is not null; node = node.Next)
                if (node.Value.Key == key)
                {
                    found = node.Value.Pipeline;
                    Entries.Remove(node);
                    break;
                }
        if (found is null || !found.StillValid()) return null; // checked outside the lock: it reads files
        return Put(key, found);
    }

    /// <summary>Keeps <paramref name="pipeline"/> as the most recent entry and returns it.</summary>
    public static LoadedPipeline Put(string key, LoadedPipeline pipeline)
    {
        lock (Entries)
        {
            for (var node = Entries.First; node is not null; node = node.Next)
                if (node.Value.Key == key) { Entries.Remove(node); break; }
            Entries.AddFirst((key, pipeline));
            while (Entries.Count > Capacity) Entries.RemoveLast();
        }
        return pipeline;
    }
}
