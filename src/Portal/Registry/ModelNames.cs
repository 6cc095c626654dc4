using System.Text;

namespace ModelOps.Portal.Registry;

public static class ModelNames
{
    /// <summary>A registry-valid model name (lower case, digits, '.', '_' and '-') suggested from a dataset name.</summary>
    public static string SuggestFrom(string? datasetName)
    {
        var sb = new StringBuilder();
        foreach (var c in (datasetName ?? "").Trim().ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '_' or '-')
                sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '-')
                sb.Append('-');
        }
        var name = sb.ToString().Trim('-', '.', '_');
        if (name.Length > 58) name = name[..58];
        return name.Length == 0 ? "model" : name + "-model";
    }
}
