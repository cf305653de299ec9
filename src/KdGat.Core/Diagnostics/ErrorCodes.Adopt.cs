namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // -t:Adopt: taking results produced outside KdGat (e.g. by Snakemake) as up to date.
    /// <summary>Error: Adopt refused a stage instance because some of its declared outputs do not exist; the message lists them.</summary>
    public const string AdoptOutputsMissing = "KDG2015";
    /// <summary>Error: Adopt refused a stage instance whose existing manifest records another fingerprint or other outputs (-p:AdoptOverwrite=true replaces it).</summary>
    public const string AdoptManifestDiffers = "KDG2016";
    /// <summary>Error: Adopt with AdoptOverwrite refused a stage instance whose outputs are the ones its manifest records as made from another result of an upstream.</summary>
    public const string AdoptOutputsPredateUpstream = "KDG2017";
}
