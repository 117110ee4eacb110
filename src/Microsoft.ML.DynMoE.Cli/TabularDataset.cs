using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Data;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>How a column is used.</summary>
    public enum ColumnPurpose
    {
        /// <summary>The label.</summary>
        Label,
        /// <summary>Numeric feature (missing values replaced by the mean).</summary>
        Numeric,
        /// <summary>Categorical text feature (one-hot).</summary>
        Categorical,
        /// <summary>Free text feature (n-gram featurization).</summary>
        Text,
        /// <summary>Not used (e.g. constant or empty).</summary>
        Ignore,
    }

    /// <summary>One inferred CSV column.</summary>
    public sealed class InferredColumn
    {
        /// <summary>Header name (or "col{i}").</summary>
        public string Name { get; set; } = "";
        /// <summary>Zero-based index.</summary>
        public int Index { get; set; }
        /// <summary>Purpose.</summary>
        public ColumnPurpose Purpose { get; set; }
        /// <summary>True when every non-missing value in the sample parses as a number.</summary>
        public bool IsNumeric { get; set; }
    }

    /// <summary>Column inference for delimited text files. Microsoft.ML 5.0.1 does not ship <c>InferColumns</c> (it lives in
    /// Microsoft.ML.AutoML, not on our feed), so this reads a sample of rows with the same rules: numbers are features,
    /// low-cardinality text is categorical, other text is free text; the TextLoader then loads the file.</summary>
    public sealed class TabularDataset
    {
        private static readonly HashSet<string> s_missing = new(StringComparer.OrdinalIgnoreCase) { "", "?", "NA", "N/A", "NaN", "null", "none" };

        /// <summary>File path.</summary>
        public string Path { get; set; } = "";
        /// <summary>Separator.</summary>
        public char Separator { get; set; } = ',';
        /// <summary>Whether the first line is a header.</summary>
        public bool HasHeader { get; set; } = true;
        /// <summary>Label column name.</summary>
        public string LabelColumn { get; set; } = "";
        /// <summary>Load the label as Single (regression) rather than text.</summary>
        public bool NumericLabel { get; set; }
        /// <summary>Columns in file order.</summary>
        public List<InferredColumn> Columns { get; set; } = new();
        /// <summary>Distinct label values seen in the sample (classification), sorted.</summary>
        public List<string> LabelValues { get; set; } = new();

        /// <summary>Infers the columns of <paramref name="path"/>. Throws <see cref="CliUsageException"/> with a fix when the file or label is unusable.</summary>
        public static TabularDataset Infer(string path, string labelColumn, bool hasHeader, bool numericLabel, int sampleRows = 5000)
        {
            if (string.IsNullOrWhiteSpace(path))
                throw new CliUsageException("No dataset given. Pass --dataset FILE.csv.");
            if (!File.Exists(path))
                throw new CliUsageException($"Dataset file '{path}' was not found. Check the path passed to --dataset (current directory: {Directory.GetCurrentDirectory()}).");
            List<string> lines;
            try
            {
                lines = File.ReadLines(path).Where(l => l.Trim().Length > 0).Take(sampleRows + 1).ToList();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new CliUsageException($"Dataset file '{path}' could not be read: {ex.Message}. Check the file permissions and that no other program locks it.");
            }
            if (lines.Count == 0)
                throw new CliUsageException($"Dataset file '{path}' is empty. Provide a CSV with a header line and at least two data rows.");
            char sep = DetectSeparator(lines[0]);
            var first = Split(lines[0], sep);
            var header = hasHeader ? first.Select(h => h.Trim()).ToList() : first.Select((_, i) => "col" + i.ToString(CultureInfo.InvariantCulture)).ToList();
            var rows = lines.Skip(hasHeader ? 1 : 0).Select(l => Split(l, sep)).ToList();
            if (rows.Count < 2)
                throw new CliUsageException($"Dataset file '{path}' has {rows.Count} data row(s). Provide at least two data rows{(hasHeader ? " below the header line" : "")}.");
            int labelIndex = header.FindIndex(h => string.Equals(h, labelColumn, StringComparison.Ordinal));
            if (labelIndex < 0)
                labelIndex = header.FindIndex(h => string.Equals(h, labelColumn, StringComparison.OrdinalIgnoreCase));
            if (labelIndex < 0)
                throw new CliUsageException($"Label column '{labelColumn}' was not found in '{path}'. Available columns: {string.Join(", ", header)}. Pass one of them to --label-col{(hasHeader ? "" : " (the file was read without a header, so columns are named col0, col1, ...)")}.");

            var ds = new TabularDataset { Path = path, Separator = sep, HasHeader = hasHeader, LabelColumn = header[labelIndex], NumericLabel = numericLabel };
            for (int c = 0; c < header.Count; c++)
            {
                var values = rows.Select(r => c < r.Length ? r[c].Trim() : "").ToList();
                var present = values.Where(v => !s_missing.Contains(v)).ToList();
                bool numeric = present.Count > 0 && present.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                var col = new InferredColumn { Name = header[c], Index = c, IsNumeric = numeric };
                if (c == labelIndex)
                {
                    col.Purpose = ColumnPurpose.Label;
                    if (numericLabel && !numeric)
                    {
                        string bad = present.FirstOrDefault(v => !double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) ?? "(empty)";
                        throw new CliUsageException($"Label column '{header[c]}' in '{path}' has non-numeric values such as '{bad}', but regression needs numbers. Use 'dynmoe classification' for categories, or choose a numeric column with --label-col.");
                    }
                    ds.LabelValues = present.Distinct(StringComparer.Ordinal).OrderBy(v => v, StringComparer.Ordinal).ToList();
                }
                else if (present.Count == 0)
                    col.Purpose = ColumnPurpose.Ignore;
                else if (numeric)
                    col.Purpose = ColumnPurpose.Numeric;
                else
                {
                    int distinct = present.Distinct(StringComparer.Ordinal).Count();
                    double avgWords = present.Average(v => v.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
                    col.Purpose = distinct <= Math.Max(30, rows.Count / 10) && avgWords < 4 ? ColumnPurpose.Categorical : ColumnPurpose.Text;
                    if (distinct == 1)
                        col.Purpose = ColumnPurpose.Ignore;
                }
                ds.Columns.Add(col);
            }
            if (!ds.Columns.Any(c => c.Purpose is ColumnPurpose.Numeric or ColumnPurpose.Categorical or ColumnPurpose.Text))
                throw new CliUsageException($"Dataset file '{path}' has no usable feature columns besides the label '{ds.LabelColumn}'. Add at least one feature column.");
            if (lines.Count > sampleRows)
                CheckTheRest(ds, path, sampleRows + 1, labelIndex);
            return ds;
        }

        /// <summary>
        /// Types come from the first rows, but a class that first appears later must still get its own label value, and a
        /// number column must not hold text further down: streams every remaining row once (label values, numeric checks).
        /// </summary>
        private static void CheckTheRest(TabularDataset ds, string path, int skip, int labelIndex)
        {
            var labels = new HashSet<string>(ds.LabelValues, StringComparer.Ordinal);
            var numeric = ds.Columns.Where(c => c.IsNumeric && (c.Purpose != ColumnPurpose.Label || ds.NumericLabel)).ToArray();
            long row = skip;
            foreach (var line in File.ReadLines(path).Where(l => l.Trim().Length > 0).Skip(skip))
            {
                row++;
                var cells = Split(line, ds.Separator);
                if (labelIndex < cells.Length && !ds.NumericLabel && !s_missing.Contains(cells[labelIndex].Trim()))
                    labels.Add(cells[labelIndex].Trim());
                foreach (var column in numeric)
                {
                    string value = column.Index < cells.Length ? cells[column.Index].Trim() : "";
                    if (!s_missing.Contains(value) && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                        throw new CliUsageException($"Column '{column.Name}' of '{path}' holds numbers in its first rows but '{value}' on line {row.ToString(CultureInfo.InvariantCulture)}. Fix that value, or mark it missing (empty, NA or ?).");
                }
            }
            ds.LabelValues = labels.OrderBy(v => v, StringComparer.Ordinal).ToList();
        }

        private static char DetectSeparator(string header)
        {
            var candidates = new[] { ',', '\t', ';', '|' };
            return candidates.OrderByDescending(c => header.Count(ch => ch == c)).First();
        }

        internal static string[] Split(string line, char sep)
        {
            var result = new List<string>();
            var cur = new System.Text.StringBuilder();
            bool quoted = false;
            for (int i = 0; i < line.Length; i++)
            {
                char ch = line[i];
                if (quoted)
                {
                    if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { cur.Append('"'); i++; }
                    else if (ch == '"') quoted = false;
                    else cur.Append(ch);
                }
                else if (ch == '"') quoted = true;
                else if (ch == sep) { result.Add(cur.ToString()); cur.Clear(); }
                else cur.Append(ch);
            }
            result.Add(cur.ToString());
            return result.ToArray();
        }

        /// <summary>Feature columns in file order.</summary>
        public IEnumerable<InferredColumn> Features => Columns.Where(c => c.Purpose is ColumnPurpose.Numeric or ColumnPurpose.Categorical or ColumnPurpose.Text);

        /// <summary>The TextLoader for this file.</summary>
        public TextLoader CreateLoader(MLContext ml)
        {
            var cols = Columns.Select(c => new TextLoader.Column(c.Name,
                c.Purpose == ColumnPurpose.Label ? (NumericLabel ? DataKind.Single : DataKind.String)
                : c.Purpose == ColumnPurpose.Numeric ? DataKind.Single : DataKind.String, c.Index)).ToArray();
            return ml.Data.CreateTextLoader(cols, Separator, HasHeader, allowQuoting: true, trimWhitespace: true);
        }

        /// <summary>Featurization: missing numbers replaced by the column mean, numbers concatenated, categoricals one-hot, text featurized,
        /// all concatenated into "Features".</summary>
        public IEstimator<ITransformer> CreateFeaturizer(MLContext ml)
        {
            IEstimator<ITransformer> est = new EstimatorChain<ITransformer>();
            var parts = new List<string>();
            var numeric = Features.Where(c => c.Purpose == ColumnPurpose.Numeric).Select(c => c.Name).ToArray();
            if (numeric.Length > 0)
            {
                est = est.Append(ml.Transforms.Concatenate("__numeric", numeric))
                         .Append(ml.Transforms.ReplaceMissingValues("__numeric", replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean));
                parts.Add("__numeric");
            }
            foreach (var c in Features.Where(c => c.Purpose == ColumnPurpose.Categorical))
            {
                string o = "__cat_" + c.Index.ToString(CultureInfo.InvariantCulture);
                est = est.Append(ml.Transforms.Categorical.OneHotEncoding(o, c.Name));
                parts.Add(o);
            }
            foreach (var c in Features.Where(c => c.Purpose == ColumnPurpose.Text))
            {
                string o = "__text_" + c.Index.ToString(CultureInfo.InvariantCulture);
                est = est.Append(ml.Transforms.Text.FeaturizeText(o, c.Name));
                parts.Add(o);
            }
            return est.Append(ml.Transforms.Concatenate("Features", parts.ToArray()));
        }

        /// <summary>Binary classification: the Boolean value of each label string (true for the "positive" one).
        /// Values that read as Booleans (1/0, true/false, yes/no) keep that meaning; otherwise the second value in ordinal order is true.</summary>
        public IReadOnlyList<KeyValuePair<string, bool>> BinaryLabelMap()
        {
            if (LabelValues.Count != 2)
                throw new CliUsageException($"Binary classification needs exactly 2 label values in column '{LabelColumn}', found {LabelValues.Count}.");
            static bool? AsBool(string v) => v.ToLowerInvariant() switch
            {
                "1" or "true" or "yes" or "y" or "t" or "+1" or "positive" or "pos" => true,
                "0" or "false" or "no" or "n" or "f" or "-1" or "negative" or "neg" => false,
                _ => null,
            };
            var a = AsBool(LabelValues[0]);
            var b = AsBool(LabelValues[1]);
            bool firstTrue = a.HasValue && b.HasValue && a.Value && !b.Value;
            return new[] { new KeyValuePair<string, bool>(LabelValues[0], firstTrue), new KeyValuePair<string, bool>(LabelValues[1], !firstTrue) };
        }

        /// <summary>Saves the column description next to a model (used by predict).</summary>
        public void SaveSidecar(string modelPath, string task)
        {
            var doc = new ModelSidecar { Task = task, Dataset = this };
            File.WriteAllText(SidecarPath(modelPath), JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
        }

        /// <summary>Path of the column description saved with a model.</summary>
        public static string SidecarPath(string modelPath) => System.IO.Path.ChangeExtension(modelPath, ".columns.json");
    }

    /// <summary>What the CLI stores next to a model.</summary>
    public sealed class ModelSidecar
    {
        /// <summary>multiclass | binary | regression.</summary>
        public string Task { get; set; } = "";
        /// <summary>Columns of the training file.</summary>
        public TabularDataset Dataset { get; set; } = new();
    }
}
