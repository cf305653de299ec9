using KdGat.Core.Diagnostics;
using KdGat.Core.Graphing;
using KdGat.Core.IO;
using KdGat.Core.Tests.Graphing;
using KdGat.Core.Tracking;

namespace KdGat.Core.Tests.IO;

/// <summary>-p:ReportFile=kdgat.yaml replaced the configuration with the HTML report, -p:GraphFile=kdgat.yaml with DOT (a review).</summary>
[Trait("Category", "Unit")]
public sealed class ReplaceableFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kdgat-replaceable-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WhatKdGatWrites_CarriesTheSignatureItIsToldBy()
    {
        Assert.Contains(ReplaceableFile.HtmlSignature, ReportPage.Head("t", 0)[..Math.Min(4096, ReportPage.Head("t", 0).Length)]);
        var picture = PictureTests.Sample("d1");
        Assert.StartsWith(ReplaceableFile.DotSignature, DotWriter.Write(picture));
        Assert.Contains(ReplaceableFile.SvgSignature, SvgWriter.Write(picture)[..1024]);
    }

    [Fact]
    public void Missing_Empty_OrKdGatsOwn_MayBeReplaced_AnythingElseNot()
    {
        var f = Path.Combine(_dir, "x");
        Assert.True(ReplaceableFile.MayReplace(f, ReplaceableFile.DotSignature));
        File.WriteAllText(f, "");
        Assert.True(ReplaceableFile.MayReplace(f, ReplaceableFile.DotSignature));
        File.WriteAllText(f, "digraph kdgat {\n}\n");
        Assert.True(ReplaceableFile.MayReplace(f, ReplaceableFile.DotSignature));
        File.WriteAllText(f, "datasets: [d1]\n");
        Assert.False(ReplaceableFile.MayReplace(f, ReplaceableFile.DotSignature));
        Assert.False(ReplaceableFile.MayReplace(_dir, ReplaceableFile.DotSignature));
    }

    [Fact]
    public void AGraphFileNamingTheConfiguration_IsKdg1207_AndLeavesItAsItWas()
    {
        File.WriteAllText(Path.Combine(_dir, "kdgat.yaml"), "datasets: [d1]\n");

        var e = Assert.Throws<KdgException>(() => GraphFiles.Paths(_dir, "kdgat.yaml"));

        Assert.Equal(ErrorCodes.FileAccess, e.Code);
        Assert.Contains("a file KdGat did not write", e.Message);
        Assert.Equal("datasets: [d1]\n", File.ReadAllText(Path.Combine(_dir, "kdgat.yaml")));
        Assert.Equal(Path.Combine(_dir, "g.dot"), GraphFiles.Paths(_dir, "g.dot").Dot); // a new name is fine
    }
}
