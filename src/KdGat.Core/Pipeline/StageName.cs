namespace KdGat.Core.Pipeline;

/// <summary>
/// Stage names become run dirs (runs/{dataset}/{stage}, which a run moves aside and Clean empties),
/// up-to-date markers (.kdgat/stamps/{dataset}/{stage}.current), attempt ids and SLURM job names:
/// the dataset-name rule. That rules out '../x' (a run dir outside the runs root), '/' (a marker,
/// log or job name in a folder that does not exist), spaces, newlines and shell characters.
/// </summary>
internal static class StageName
{
    public static bool IsValid(string name) => DatasetName.IsValid(name);

    /// <summary>
    /// MSBuild's reserved item metadata, in any case: the plan's stamp items carry one metadata per
    /// stage, named by the stage, and a stage named 'identity' stopped every build with MSB3031 (a review).
    /// </summary>
    public static bool IsReservedMetadata(string name) => Reserved.Contains(name);

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "FullPath", "RootDir", "Filename", "Extension", "RelativeDir", "Directory", "RecursiveDir", "Identity",
        "ModifiedTime", "CreatedTime", "AccessedTime", "DefiningProjectFullPath", "DefiningProjectDirectory",
        "DefiningProjectName", "DefiningProjectExtension",
    };
}
