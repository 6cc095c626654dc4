using Microsoft.Extensions.Localization;

namespace ModelOps.Portal.Datasets;

/// <summary>The personal-data kinds (<see cref="PersonalDataKinds"/>) in the reader's language.</summary>
public static class SensitiveTextNames
{
    public static string PersonalData(IStringLocalizer<DatasetsText> text, string kind) => kind switch
    {
        PersonalDataKinds.Email => text["e-mail addresses"],
        PersonalDataKinds.Phone => text["phone numbers"],
        PersonalDataKinds.NationalId => text["national ids"],
        PersonalDataKinds.CardNumber => text["card numbers"],
        _ => kind,
    };
}
