namespace Microsoft.ML.DynMoE.Training;

/// <summary>The schema checks and bad-input messages every DynMoE trainer shares, so the same mistake reads the same everywhere.</summary>
internal static class ColumnChecks
{
    /// <summary>Checks the optional example weight column: present and a Single scalar.</summary>
    public static void CheckWeight(SchemaShape schema, string? weightColumnName, string dataName)
    {
        if (weightColumnName is null)
            return;
        if (!schema.TryFindColumn(weightColumnName, out var weight))
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.ExampleWeightColumnName),
                $"Example weight column '{weightColumnName}' was not found in the {dataName} data. Set ExampleWeightColumnName to an existing column or to null.");
        if (weight.Kind != SchemaShape.Column.VectorKind.Scalar || weight.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.ExampleWeightColumnName),
                $"Example weight column '{weightColumnName}' must be a Single scalar, but it is {Describe(weight)}. Convert it with mlContext.Transforms.Conversion.ConvertType(\"{weightColumnName}\", outputKind: DataKind.Single).");
    }

    /// <summary>A row holds NaN or ±∞ where the network reads its input.</summary>
    public static InvalidOperationException NonFiniteInput(string columnName, float value, long row, int slot)
        => new($"Column '{columnName}' holds {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} at row {row} (slot {slot}). Replace missing values first, " +
            $"e.g. mlContext.Transforms.ReplaceMissingValues(\"{columnName}\"), or set SkipRowsWithNonFiniteFeatures = true to skip such rows.");

    /// <summary>A column's type in words, for error messages.</summary>
    public static string Describe(SchemaShape.Column column)
    {
        string item = column.IsKey ? $"Key<{column.ItemType}>" : column.ItemType?.ToString() ?? "?";
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Vector => $"a known-size vector of {item}",
            SchemaShape.Column.VectorKind.VariableVector => $"a variable-size vector of {item}",
            _ => $"a scalar of {item}",
        };
    }
}
