using System.Xml;
using System.Xml.Linq;
using KdGat.Core.IO;

namespace KdGat.Core.Pipeline;

/// <summary>A place in a project file: 1-based line and column (the column of the element's '&lt;').</summary>
internal sealed record ProjectPlace(string File, int Line, int Column);

/// <summary>
/// Where a stage's target and its KdGatStage item are in the pipeline project, for errors that ask
/// for an edit there (KDG1006, KDG1201, KDG1202, KDG6001). MSBuild hands tasks items without XML positions, so this
/// reads the project file itself (System.Xml.Linq with line info; no DTD, bounded size). Only what is
/// written literally is found: a <c>&lt;KdGatStage Include="NAME"&gt;</c> in a <c>&lt;Target&gt;</c> of
/// that file (names separated by ';' count). A stage target imported from another file, an Include
/// made from a property, or a file that cannot be read gives null: the error then names the file only.
/// </summary>
internal static class StageTargets
{
    /// <summary>A larger project file is not read for a position (no project is that big).</summary>
    internal const long MaxBytes = 4 * 1024 * 1024;

    /// <summary>The KdGatStage item that declares <paramref name="stage"/> and the target around it, or null.</summary>
    public static (ProjectPlace Item, ProjectPlace Target)? Find(string projectFile, string stage) =>
        FindAll(projectFile, stage).FirstOrDefault() is { Item: not null } first ? (first.Item, first.Target) : null;

    /// <summary>
    /// Every KdGatStage item that declares <paramref name="stage"/>, with the target around it, its
    /// Needs as written (split at ';') and the names of its metadata (attributes and child elements),
    /// in file order: of several declarations, the one an error is about is the one with its Needs
    /// (KDG1201, KDG1202) or its metadata (KDG1214), not the first in the file.
    /// </summary>
    public static IEnumerable<(ProjectPlace Item, ProjectPlace Target, string[] Needs, string[] Metadata)> FindAll(string projectFile, string stage)
    {
        var doc = Read(projectFile);
        if (doc?.Root is null) yield break;
        foreach (var item in doc.Root.Descendants().Where(e => e.Name.LocalName == "KdGatStage"))
        {
            var names = ((string?)item.Attribute("Include") ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (!names.Contains(stage, StringComparer.Ordinal)) continue;
            var target = item.Ancestors().FirstOrDefault(e => e.Name.LocalName == "Target");
            if (target is null) continue; // an item outside a target is not a stage declaration
            yield return (At(projectFile, item), At(projectFile, target),
                ((string?)item.Attribute("Needs") ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                [.. item.Attributes().Select(a => a.Name.LocalName).Where(n => n is not ("Include" or "Exclude" or "Remove" or "Update" or "Condition")),
                 .. item.Elements().Select(e => e.Name.LocalName)]);
        }
    }

    private static ProjectPlace At(string file, XElement e)
    {
        var info = (IXmlLineInfo)e;
        // LinePosition is the column of the element's name; the '<' before it is where MSBuild and editors point.
        return new(file, info.LineNumber, Math.Max(1, info.LinePosition - 1));
    }

    private static XDocument? Read(string file)
    {
        try
        {
            if (!File.Exists(file)) return null;
            // A regular file of bounded size only (a FIFO would block the open); parsed without a DTD.
            var bytes = SmallFile.ReadAllBytes(file, MaxBytes);
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxBytes };
            using var reader = XmlReader.Create(new MemoryStream(bytes), settings);
            return XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (Exception e) when (e is XmlException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
