using System.Globalization;

namespace Microsoft.ML.DynMoE.Experiments.Internal
{
    /// <summary>A label column read as culture-invariant text, so labels of any supported type group, sort and hash alike.</summary>
    internal static class LabelText
    {
        /// <summary>
        /// Every row's label in row order: a key's index, a number in round-trip form, 1 or 0 for a Boolean, or the text;
        /// null when the column has another type.
        /// </summary>
        internal static List<string>? Read(IDataView data, DataViewSchema.Column column)
        {
            var raw = column.Type.RawType;
            if (raw == typeof(uint))
                return Read<uint>(data, column, v => v.ToString(CultureInfo.InvariantCulture));
            if (raw == typeof(float))
                return Read<float>(data, column, v => v.ToString("R", CultureInfo.InvariantCulture));
            if (raw == typeof(double))
                return Read<double>(data, column, v => v.ToString("R", CultureInfo.InvariantCulture));
            if (raw == typeof(bool))
                return Read<bool>(data, column, v => v ? "1" : "0");
            if (raw == typeof(ReadOnlyMemory<char>))
                return Read<ReadOnlyMemory<char>>(data, column, v => v.ToString());
            return null;
        }

        private static List<string> Read<T>(IDataView data, DataViewSchema.Column column, Func<T, string> text)
        {
            var result = new List<string>();
            using var cursor = data.GetRowCursor(new[] { column });
            var getter = cursor.GetGetter<T>(column);
            T value = default!;
            while (cursor.MoveNext())
            {
                getter(ref value);
                result.Add(text(value));
            }
            return result;
        }
    }
}
