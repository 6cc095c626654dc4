using Microsoft.Extensions.Localization;

namespace ModelOps.Portal.Datasets;

/// <summary>The Datasets pages' strings: DatasetsText.resx (en) and DatasetsText.zh-CN.resx.</summary>
public sealed class DatasetsText;

/// <summary>Names the profile stores as codes (column types, dataset kinds, header modes), in the user's language.</summary>
public static class DatasetsTextNames
{
    public static string ColumnType(IStringLocalizer<DatasetsText> text, string type) => type switch
    {
        "numeric" => text["numeric"],
        "categorical" => text["categorical"],
        "label" => text["label"],
        "text" => text["text"],
        _ when type.StartsWith("image", StringComparison.Ordinal) => text["image {0}", type["image".Length..].Trim()],
        _ => type,
    };

    public static string Kind(IStringLocalizer<DatasetsText> text, string kind) => kind switch
    {
        DatasetKinds.Csv => text["Tabular"],
        DatasetKinds.Text => text["Text documents"],
        DatasetKinds.Idx => text["Images (IDX)"],
        _ => kind,
    };

    public static string HeaderMode(IStringLocalizer<DatasetsText> text, string? mode) => mode switch
    {
        nameof(CsvHeaderMode.SkipFirstRow) => text["Line 1 described the file and was skipped"],
        nameof(CsvHeaderMode.FirstRowIsData) => text["No header: line 1 is data"],
        _ => text["Line 1 is the header"],
    };
}
