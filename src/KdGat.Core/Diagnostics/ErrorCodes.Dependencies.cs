namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    /// <summary>A stage names another stage's outputs (a placeholder, an input or output path) without having it as a direct Need.</summary>
    public const string UndeclaredDependency = "KDG1011";
    /// <summary>Warning: a stage under 'stages:' that no stage target of the pipeline declares (a KdGatStage item), so no build runs it.</summary>
    public const string StageWithoutTarget = "KDG1012";
    /// <summary>A stage names a path in, or above, another dataset's runs or cache dir: no Needs can name another dataset's stage.</summary>
    public const string CrossDatasetRead = "KDG1038";
    /// <summary>A stage's command names raw data (or a cache dir no stage writes) that its declared inputs do not cover, so its fingerprint misses it.</summary>
    public const string UndeclaredRawData = "KDG1039";
    /// <summary>Warning: a stage's command or setup names a file below the pipeline root (a script) that no inputs: or code: pattern of the stage covers, so an edit to it reruns nothing.</summary>
    public const string UncoveredNamedFile = "KDG1040";
    /// <summary>A literal code: entry that is, or holds, KdGat's state dir or a folder stages write (code: ["."]): every build would change its fingerprint.</summary>
    public const string CodeCoversState = "KDG1041";
    /// <summary>A stage's command or setup names a file in a needed stage's run dir that the needed stage does not declare as an output: its fingerprint misses it.</summary>
    public const string UndeclaredUpstreamFile = "KDG1042";
}
