using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace KdGat.Core.IO;

/// <summary>
/// Whether the code this process runs is still the file it was loaded from. MSBuild keeps a task
/// assembly loaded for the life of its process and never loads the same path twice, so the MSBuild
/// server, a reused node or an IDE would go on running KdGat's old tasks after the bootstrap rebuilt
/// them in place: old staleness rules judging new state.
/// </summary>
internal static class LoadedAssembly
{
    /// <summary>
    /// The file in <paramref name="dir"/> that <paramref name="assembly"/> was loaded from, when that
    /// file now holds another build (its module version id differs) or is gone; null when it is the
    /// loaded code or the assembly did not come from <paramref name="dir"/> (a test host, another copy).
    /// </summary>
    public static string? ReplacedIn(Assembly assembly, string dir)
    {
        var location = assembly.Location;
        if (location.Length == 0) return null;
        var folder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        if (!string.Equals(Path.GetDirectoryName(location), folder, StringComparison.Ordinal)) return null;
        try
        {
            SmallFile.RefuseSpecial(location); // a FIFO there would block the open for ever
            using var stream = new FileStream(location, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var pe = new PEReader(stream);
            var metadata = pe.GetMetadataReader();
            return metadata.GetGuid(metadata.GetModuleDefinition().Mvid) == assembly.ManifestModule.ModuleVersionId ? null : location;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException or InvalidOperationException)
        {
            return location; // gone or not an assembly any more: in any case not the code loaded
        }
    }
}
