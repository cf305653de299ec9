namespace KdGat.Core.Pipeline;

/// <summary>
/// Stage names become run dirs (runs/{dataset}/{stage}, which a run moves aside and Clean empties),
/// state dirs and SLURM job names: one or more '/'-separated parts (each a folder of the run dir),
/// every part a valid dataset name. That rules out '../x' and '/x' (a run dir outside the runs
/// root), empty parts, spaces and shell characters.
/// </summary>
internal static class StageName
{
    public static bool IsValid(string name) => name.Split('/').All(DatasetName.IsValid);
}
