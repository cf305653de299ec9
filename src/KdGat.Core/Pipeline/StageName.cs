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
}
