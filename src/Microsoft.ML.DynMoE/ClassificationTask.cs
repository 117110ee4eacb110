using System.Globalization;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Training;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// What a classification task decides, in one place for every DynMoE trainer: the label it accepts (and the error that
/// says how to fix another), how the label becomes a training target, the single-class check, the network's outputs
/// and, for encoder models, the columns a trained model adds (ML.NET's names and annotations). Trainers, the encoder
/// model and its transformer ask it instead of switching on the task.
/// </summary>
internal abstract class ClassificationTask(int id, PredictionKind predictionKind, TrainingObjective objective, int outputColumnCount)
{
    /// <summary>Boolean label; Score (logit), Probability, PredictedLabel (Boolean).</summary>
    public static ClassificationTask Binary { get; } = new BinaryTask();

    /// <summary>Key label; Score (class probabilities), PredictedLabel (key with the label's values).</summary>
    public static ClassificationTask Multiclass { get; } = new MulticlassTask();

    /// <summary>The number a saved model records for the task.</summary>
    public int Id { get; } = id;

    public PredictionKind PredictionKind { get; } = predictionKind;

    public TrainingObjective Objective { get; } = objective;

    /// <summary>Output columns a model of this task adds.</summary>
    public int OutputColumnCount { get; } = outputColumnCount;

    public static ClassificationTask FromId(int id) => id switch
    {
        1 => Binary,
        2 => Multiclass,
        _ => throw new InvalidDataException($"The DynMoE encoder model records an unknown task {id}; the file is damaged."),
    };

    /// <summary>Throws, naming the column and the fix, when <paramref name="label"/> cannot be this task's label.</summary>
    public abstract void CheckLabel(SchemaShape.Column label);

    /// <summary>Network outputs for <paramref name="label"/>.</summary>
    public abstract int OutputCount(DataViewSchema.Column label);

    /// <summary>Class names in key order (multiclass), or none.</summary>
    public abstract string[] ClassNames(DataViewSchema.Column label);

    /// <summary>The label as the training target: 0/1, or the 0-based class; NaN when missing.</summary>
    public abstract ValueGetter<float> CreateLabelGetter(DataViewRow row, DataViewSchema.Column label);

    /// <summary>Whether a network with <paramref name="outputs"/> outputs can serve <paramref name="classes"/> recorded classes.</summary>
    public abstract bool OutputsMatch(int outputs, int classes);

    /// <summary>The training labels hold a single class: the message that says so.</summary>
    public abstract string SingleClassMessage(string labelName, float label);

    /// <summary>
    /// The output columns a fitted model adds to <paramref name="input"/>'s schema; with <paramref name="trainerOutput"/>,
    /// with the annotations ML.NET's scorers and evaluators read on a trainer's output (the tabular trainers').
    /// </summary>
    public abstract IEnumerable<SchemaShape.Column> OutputSchema(SchemaShape input, string labelColumnName, bool trainerOutput = false);

    /// <summary>Regression's output column (the tabular regression trainer has no classification task).</summary>
    public static SchemaShape.Column[] RegressionOutputSchema() => new[]
    {
        new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
            new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
    };

    private static SchemaShape? TrainerAnnotations(bool trainerOutput, bool isStandardScore = false)
        => trainerOutput ? new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation(isStandardScore)) : null;

    /// <summary>The output columns, with ML.NET's score annotations.</summary>
    public abstract DataViewSchema.DetachedColumn[] OutputColumns(IReadOnlyList<string> names, IReadOnlyList<string> classNames, int outputs);

    /// <summary>The getter of output column <paramref name="index"/>, reading the row's logits.</summary>
    public abstract Delegate MakeGetter(int index, Func<float[]> logits);

    private static void AddScoreAnnotations(DataViewSchema.Annotations.Builder builder, string kind, string valueKind)
    {
        builder.Add(AnnotationUtils.Kinds.ScoreColumnKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = kind.AsMemory());
        builder.Add(AnnotationUtils.Kinds.ScoreValueKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = valueKind.AsMemory());
        builder.Add(AnnotationUtils.Kinds.ScoreColumnSetId, AnnotationUtils.ScoreColumnSetIdType, (ref uint value) => value = 1);
    }

    private sealed class BinaryTask() : ClassificationTask(1, PredictionKind.BinaryClassification, TrainingObjective.BinaryCrossEntropy, outputColumnCount: 3)
    {
        public override void CheckLabel(SchemaShape.Column label)
        {
            if (label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar || label.ItemType != BooleanDataViewType.Instance)
                throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.LabelColumnName),
                    $"Label column '{label.Name}' must be Boolean for binary classification, but it is {ColumnChecks.Describe(label)}. " +
                    $"Load it as bool, or convert it, e.g. mlContext.Transforms.Conversion.ConvertType(\"{label.Name}\", outputKind: DataKind.Boolean) for 0/1 numbers.");
        }

        public override int OutputCount(DataViewSchema.Column label) => 1;

        public override string[] ClassNames(DataViewSchema.Column label) => Array.Empty<string>();

        public override ValueGetter<float> CreateLabelGetter(DataViewRow row, DataViewSchema.Column label)
        {
            var getter = row.GetGetter<bool>(label);
            bool flag = false;
            return (ref float value) =>
            {
                getter(ref flag);
                value = flag ? 1f : 0f;
            };
        }

        public override bool OutputsMatch(int outputs, int classes) => outputs == 1;

        public override string SingleClassMessage(string labelName, float label)
            => $"Label column '{labelName}' is always {(label > 0 ? "true" : "false")} in the training data; binary classification needs both classes. Check the data, the split, or any filter in front of the trainer.";

        public override IEnumerable<SchemaShape.Column> OutputSchema(SchemaShape input, string labelColumnName, bool trainerOutput = false) => new[]
        {
            new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false, TrainerAnnotations(trainerOutput)),
            new SchemaShape.Column(DefaultColumnNames.Probability, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false, TrainerAnnotations(trainerOutput, isStandardScore: true)),
            new SchemaShape.Column(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, false, TrainerAnnotations(trainerOutput)),
        };

        public override DataViewSchema.DetachedColumn[] OutputColumns(IReadOnlyList<string> names, IReadOnlyList<string> classNames, int outputs)
        {
            var score = new DataViewSchema.Annotations.Builder();
            AddScoreAnnotations(score, AnnotationUtils.Const.ScoreColumnKind.BinaryClassification, AnnotationUtils.Const.ScoreValueKind.Score);
            var probability = new DataViewSchema.Annotations.Builder();
            AddScoreAnnotations(probability, AnnotationUtils.Const.ScoreColumnKind.BinaryClassification, AnnotationUtils.Const.ScoreValueKind.Probability);
            probability.Add(AnnotationUtils.Kinds.IsNormalized, BooleanDataViewType.Instance, (ref bool value) => value = true);
            var predicted = new DataViewSchema.Annotations.Builder();
            AddScoreAnnotations(predicted, AnnotationUtils.Const.ScoreColumnKind.BinaryClassification, AnnotationUtils.Const.ScoreValueKind.PredictedLabel);
            return new[]
            {
                new DataViewSchema.DetachedColumn(names[0], NumberDataViewType.Single, score.ToAnnotations()),
                new DataViewSchema.DetachedColumn(names[1], NumberDataViewType.Single, probability.ToAnnotations()),
                new DataViewSchema.DetachedColumn(names[2], BooleanDataViewType.Instance, predicted.ToAnnotations()),
            };
        }

        public override Delegate MakeGetter(int index, Func<float[]> logits) => index switch
        {
            0 => (ValueGetter<float>)((ref float value) => value = logits()[0]),
            1 => (ValueGetter<float>)((ref float value) => value = ScalarMath.Sigmoid(logits()[0])),
            _ => (ValueGetter<bool>)((ref bool value) => value = logits()[0] > 0),
        };
    }

    private sealed class MulticlassTask() : ClassificationTask(2, PredictionKind.MulticlassClassification, TrainingObjective.CrossEntropy, outputColumnCount: 2)
    {
        public override void CheckLabel(SchemaShape.Column label)
        {
            if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar || label.ItemType != NumberDataViewType.UInt32)
                throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.LabelColumnName),
                    $"Label column '{label.Name}' must be a UInt32 key for multiclass classification, but it is {ColumnChecks.Describe(label)}. " +
                    $"Add mlContext.Transforms.Conversion.MapValueToKey(\"{label.Name}\") before the trainer.");
        }

        public override int OutputCount(DataViewSchema.Column label)
            => label.Type is KeyDataViewType key && key.Count is >= 1 and <= MaximumClasses
                ? (int)key.Count
                : throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.LabelColumnName),
                    $"Label column '{label.Name}' must be a key with a known number of values, at most 1,048,576; use MapValueToKey.");

        // A network output per class: far above any classifier this library trains, it only catches a wrong column.
        private const int MaximumClasses = 1 << 20;

        public override string[] ClassNames(DataViewSchema.Column label)
        {
            int count = OutputCount(label);
            if (label.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues) is DataViewSchema.Column keyValues
                && keyValues.Type is VectorDataViewType vector && vector.Size == count && TextOf(label, vector.ItemType) is Func<string[]> text)
                return text();
            return Enumerable.Range(1, count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }

        // Key values of any common item type (text, or numbers and Booleans mapped to keys) in their text form.
        private static Func<string[]>? TextOf(DataViewSchema.Column label, DataViewType itemType)
        {
            string[] Read<T>(Func<T, string> format)
            {
                VBuffer<T> values = default;
                label.Annotations.GetValue(AnnotationUtils.Kinds.KeyValues, ref values);
                return values.DenseValues().Select(format).ToArray();
            }

            return itemType switch
            {
                TextDataViewType => () => Read<ReadOnlyMemory<char>>(v => v.ToString()),
                _ when itemType == NumberDataViewType.Single => () => Read<float>(v => v.ToString(CultureInfo.InvariantCulture)),
                _ when itemType == NumberDataViewType.Double => () => Read<double>(v => v.ToString(CultureInfo.InvariantCulture)),
                _ when itemType == NumberDataViewType.Int32 => () => Read<int>(v => v.ToString(CultureInfo.InvariantCulture)),
                BooleanDataViewType => () => Read<bool>(v => v ? "True" : "False"),
                _ => null,
            };
        }

        public override ValueGetter<float> CreateLabelGetter(DataViewRow row, DataViewSchema.Column label)
        {
            var getter = row.GetGetter<uint>(label);
            uint key = 0;
            return (ref float value) =>
            {
                getter(ref key);
                value = key == 0 ? float.NaN : key - 1;
            };
        }

        public override bool OutputsMatch(int outputs, int classes) => classes == 0 || outputs == Math.Max(classes, 2);

        public override string SingleClassMessage(string labelName, float label)
            => $"Label column '{labelName}' has a single class in the training data; multiclass classification needs at least two. Check the data, the split, or any filter in front of the trainer.";

        public override IEnumerable<SchemaShape.Column> OutputSchema(SchemaShape input, string labelColumnName, bool trainerOutput = false)
        {
            input.TryFindColumn(labelColumnName, out var label);
            var keyValues = label.Annotations.Where(a => a.Name == AnnotationUtils.Kinds.KeyValues);
            return new[]
            {
                new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false,
                    trainerOutput ? new SchemaShape(AnnotationUtils.AnnotationsForMulticlassScoreColumn(label)) : null),
                new SchemaShape.Column(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true,
                    new SchemaShape(trainerOutput ? keyValues.Concat(AnnotationUtils.GetTrainerOutputAnnotation()) : keyValues)),
            };
        }

        public override DataViewSchema.DetachedColumn[] OutputColumns(IReadOnlyList<string> names, IReadOnlyList<string> classNames, int outputs)
        {
            var text = new VBuffer<ReadOnlyMemory<char>>(outputs, Enumerable.Range(0, outputs)
                .Select(i => (i < classNames.Count ? classNames[i] : (i + 1).ToString(CultureInfo.InvariantCulture)).AsMemory()).ToArray());
            var textType = new VectorDataViewType(TextDataViewType.Instance, outputs);
            ValueGetter<VBuffer<ReadOnlyMemory<char>>> textGetter = (ref VBuffer<ReadOnlyMemory<char>> value) => text.CopyTo(ref value);
            var score = new DataViewSchema.Annotations.Builder();
            AddScoreAnnotations(score, AnnotationUtils.Const.ScoreColumnKind.MulticlassClassification, AnnotationUtils.Const.ScoreValueKind.Score);
            score.Add(AnnotationUtils.Kinds.SlotNames, textType, textGetter);
            score.Add(AnnotationUtils.Kinds.TrainingLabelValues, textType, textGetter);
            var predicted = new DataViewSchema.Annotations.Builder();
            predicted.Add(AnnotationUtils.Kinds.KeyValues, textType, textGetter);
            AddScoreAnnotations(predicted, AnnotationUtils.Const.ScoreColumnKind.MulticlassClassification, AnnotationUtils.Const.ScoreValueKind.PredictedLabel);
            return new[]
            {
                new DataViewSchema.DetachedColumn(names[0], new VectorDataViewType(NumberDataViewType.Single, outputs), score.ToAnnotations()),
                new DataViewSchema.DetachedColumn(names[1], new KeyDataViewType(typeof(uint), outputs), predicted.ToAnnotations()),
            };
        }

        public override Delegate MakeGetter(int index, Func<float[]> logits)
        {
            if (index == 0)
            {
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    var scores = logits();
                    var editor = VBufferEditor.Create(ref value, scores.Length);
                    ScalarMath.SoftMax(scores, editor.Values);
                    value = editor.Commit();
                });
            }

            return (ValueGetter<uint>)((ref uint value) =>
            {
                var scores = logits();
                int best = 0;
                for (int i = 1; i < scores.Length; i++)
                {
                    if (scores[i] > scores[best])
                        best = i;
                }

                // A NaN score (NaN input) has no class: ML.NET's missing key is 0.
                value = float.IsNaN(scores[best]) ? 0u : (uint)best + 1;
            });
        }
    }
}
