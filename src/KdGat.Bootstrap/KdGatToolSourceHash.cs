using System.Reflection;
using Microsoft.Build.Framework;

namespace KdGat.Bootstrap;

/// <summary>
/// The tool-source hash (<see cref="ToolSourceHash"/>) for the bootstrap, or "" when this assembly
/// was not built from the sources beside it now (an edit here, a source dir of another version:
/// <see cref="SelfCheck"/>) or the tree has what only the shell pipeline answers; the bootstrap then
/// runs the pipeline. ITask itself, not Microsoft.Build.Utilities' Task: no other assembly to load.
/// </summary>
public sealed class KdGatToolSourceHash : ITask, IIncrementalTask
{
    public IBuildEngine BuildEngine { get; set; } = null!;
    public ITaskHost HostObject { get; set; } = null!;

    /// <summary>The tool source dir (src/), as the pipeline's working directory.</summary>
    [Required] public string SourceDir { get; set; } = "";

    [Output] public string Hash { get; private set; } = "";

    /// <summary>The tools folder: its files are checked against <see cref="ToolsList"/> ("" for no check).</summary>
    public string ToolsDir { get; set; } = "";

    /// <summary>What the tools folder lacks that its list names ("" when it is complete, or no <see cref="ToolsDir"/>): the bootstrap builds it again.</summary>
    [Output] public string ToolsIncomplete { get; private set; } = "";

    /// <summary>Set by MSBuild under -question: nothing here changes anything, but the bootstrap must not compile then.</summary>
    public bool FailIfNotIncremental { get; set; }

    /// <summary>Whether this build is MSBuild's -question (no property says so): the bootstrap then says the tools are not current instead of compiling them.</summary>
    [Output] public bool Question => FailIfNotIncremental;

    public bool Execute()
    {
        if (ToolsDir.Length > 0) ToolsIncomplete = ToolsList.Incomplete(ToolsDir) ?? "";
        var own = SelfCheck.Differences(Assembly.GetExecutingAssembly(), Path.Combine(SourceDir, "KdGat.Bootstrap"));
        Hash = own is null ? ToolSourceHash.Compute(SourceDir) ?? "" : "";
        if (Hash.Length == 0)
            BuildEngine.LogMessageEvent(new BuildMessageEventArgs(
                "KdGat: tool-source hash left to the shell pipeline: " + (own ?? "the source tree has a link, an empty or unreadable file or a name the pipeline escapes"),
                null, nameof(KdGatToolSourceHash), MessageImportance.Low));
        return true;
    }
}
