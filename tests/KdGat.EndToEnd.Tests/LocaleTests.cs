using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// A cluster's login shell often sets a European locale (LANG=de_DE.UTF-8): .NET then formats and
/// parses numbers with a decimal comma in MSBuild's process, where KdGat's tasks run. Nothing KdGat
/// decides may depend on it (a fingerprint of `lr: 0.001` is the same under every locale), and its
/// console lines, English text, keep the decimal point: the summary said "13 ran in 1,9 s" under
/// de_DE while each stage's line said "ran in 0.1 s". tr_TR is the locale whose dotless i breaks
/// culture-sensitive upper and lower casing.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class LocaleTests
{
    [Fact]
    public void ABuildUnderAGermanLocale_PrintsPoints_AndIsUpToDateUnderEveryOtherLocale()
    {
        using var s = Sandbox.Trivial();
        SetLocale(s, "de_DE.UTF-8");
        var de = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(de.ExitCode == 0, de.ToString());
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(de.Output, @"13 ran in \d+\.\d s \(hashed \d+ file\(s\), \d+(\.\d)? MiB\)"), de.Output);

        foreach (var locale in new[] { "C.UTF-8", "tr_TR.UTF-8", "de_DE.UTF-8" })
        {
            SetLocale(s, locale);
            var again = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
            Assert.True(again.ExitCode == 0, $"{locale}: {again}");
            Assert.True(Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length == 13, $"{locale}: not a no-op:\n{again}");
        }
    }

    private static void SetLocale(Sandbox s, string locale)
    {
        s.Env["LANG"] = locale;
        s.Env["LC_ALL"] = locale;
    }
}
