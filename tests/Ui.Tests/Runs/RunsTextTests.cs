using System.Xml.Linq;

namespace ModelOps.Ui.Tests.Runs;

/// <summary>
/// Keys that differ only in case ("Loss" and "loss") collide in the compiled resources: one of them then falls
/// back to its English key in zh-CN (the run page's axis titles did). The Runs strings keep keys apart.
/// </summary>
public sealed class RunsTextTests
{
    [Fact]
    public void No_two_runs_keys_differ_only_in_case()
    {
        var keys = XDocument.Load(Path.Combine(RepoFiles.PortalSource, "Runs", "RunsText.resx")).Root!.Elements("data")
            .Select(d => (string)d.Attribute("name")!).ToList();
        Assert.True(keys.Count > 100);
        Assert.Empty(keys.GroupBy(k => k, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => string.Join(" / ", g)));
    }
}
