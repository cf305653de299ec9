using KdGat.Core.Diagnostics;

namespace KdGat.Core.Config;

/// <summary>
/// The one reading of a yes/no setting: the -p: properties the tasks read, the KDGAT_* variables and
/// kdgat.yaml's true/false keys (cache, trust_ctime). Each had its own list: KDGAT_CACHE_READONLY=on
/// and `cache: TRUE` were errors where -p:VerifyHashes=on was true. The README's "Yes/no values"
/// lists the words; a site keeps its own error code and its own extra words (verify, none, a path).
/// Not for parameter values: there yes/no/on/off are refused (KDG1043), as they reach the stage.
/// </summary>
internal static class YesNo
{
    /// <summary>The accepted words, as a message lists them.</summary>
    public const string Words = "true/yes/on/1 or false/no/off/0, in any case";

    /// <summary>True or false for one of the words (spaces around it ignored); null for anything else, empty included (each site has its own default).</summary>
    public static bool? Read(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => null,
    };

    /// <summary>A yes/no -p: property: empty is <paramref name="fallback"/>, anything but a word KDG1205 naming it.</summary>
    /// <param name="given">Where the value came from when not -p: (an environment variable WAIT: Engine.EnvironmentProperties.Given).</param>
    public static bool Property(string property, string? value, bool fallback, string? given = null) =>
        string.IsNullOrWhiteSpace(value) ? fallback
        : Read(value) ?? throw new KdgException(ErrorCodes.BadProperty, $"{given ?? "-p:" + property} must be true or false ({Words}), not '{ConsoleText.Printable(value)}'.");
}
