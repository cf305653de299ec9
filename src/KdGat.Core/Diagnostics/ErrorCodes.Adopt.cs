namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // -t:Adopt: taking results produced outside KdGat (e.g. by Snakemake) as up to date.
    /// <summary>Error: Adopt refused a stage instance because some of its declared outputs do not exist; the message lists them.</summary>
    public const string AdoptOutputsMissing = "KDG2015";
    /// <summary>Error: Adopt refused a stage instance whose existing manifest records another fingerprint or other outputs (-p:AdoptOverwrite=true replaces it).</summary>
    public const string AdoptManifestDiffers = "KDG2016";
    /// <summary>
    /// Error: Adopt refused a stage instance whose outputs are byte for byte the ones its manifest (or
    /// the newest archived one recording them) records as made from something the stage no longer has:
    /// other parameters, inputs, code, command or upstream results. AdoptOverwrite cannot vouch for them.
    /// </summary>
    public const string AdoptOutputsMadeFromOther = "KDG2017";
    /// <summary>Error: Adopt refused a stage instance whose run dir holds a params.json of the user's (no manifest of KdGat's beside it) with other bytes than KdGat writes there: adopting would overwrite it.</summary>
    public const string AdoptParamsFileTaken = "KDG2019";
    /// <summary>Error: Adopt refused a stage instance with an output Snakemake marked incomplete (.snakemake/incomplete/): the job writing it was killed or failed.</summary>
    public const string AdoptSnakemakeIncomplete = "KDG2020";
    /// <summary>Warning: Adopt took an output with no bytes (an empty file or a folder of none), which a job killed before it wrote leaves behind.</summary>
    public const string AdoptedEmptyOutput = "KDG2021";
}
