namespace Microsoft.ML.DynMoE.Inference;

/// <summary>Reads a label column as display text: key values through their KeyValues annotation, other types as written.</summary>
internal static class LabelText
{
    public static Func<string> CreateGetter(DataViewRow row, DataViewSchema.Column column)
    {
        var type = column.Type;
        if (type is KeyDataViewType keyType)
        {
            if (keyType.RawType != typeof(uint))
                throw new ArgumentOutOfRangeException(nameof(column), $"Label column '{column.Name}' is a key of {keyType.RawType.Name}; routing by label reads UInt32 keys (what MapValueToKey produces).");
            var keyGetter = row.GetGetter<uint>(column);
            VBuffer<ReadOnlyMemory<char>> names = default;
            bool hasNames = column.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues)?.Type is VectorDataViewType { ItemType: TextDataViewType };
            if (hasNames)
                column.GetKeyValues(ref names);
            uint key = 0;
            return () =>
            {
                keyGetter(ref key);
                if (key == 0)
                    return "(missing)";
                return hasNames && key - 1 < names.Length ? names.GetItemOrDefault((int)(key - 1)).ToString() : key.ToString();
            };
        }
        if (type == BooleanDataViewType.Instance)
        {
            var getter = row.GetGetter<bool>(column);
            bool value = false;
            return () => { getter(ref value); return value ? "true" : "false"; };
        }
        if (type == NumberDataViewType.Single)
        {
            var getter = row.GetGetter<float>(column);
            float value = 0;
            return () => { getter(ref value); return value.ToString(System.Globalization.CultureInfo.InvariantCulture); };
        }
        if (type is TextDataViewType)
        {
            var getter = row.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> value = default;
            return () => { getter(ref value); return value.ToString(); };
        }
        throw new ArgumentOutOfRangeException(nameof(column), $"Label column '{column.Name}' has type {type}; routing by label supports key, Boolean, Single and text columns.");
    }
}
