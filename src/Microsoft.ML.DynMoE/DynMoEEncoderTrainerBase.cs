using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Text;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// What the DynMoE text and image trainers share, as Microsoft.ML.TorchSharp's trainers share one base: schema and
/// label checks with errors that name the column and the fix, reading the examples into memory through the task's
/// <see cref="SequenceInput"/>, the TorchSharp training loop on a <see cref="TransformerEncoder"/>, logging and
/// progress. Each task adds only its input featurization.
/// </summary>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class DynMoEEncoderTrainerBase<TOptions> : IEstimator<DynMoEEncoderTransformer>
    where TOptions : DynMoEEncoderOptionsBase
{
    private readonly TOptions _options;

    private protected DynMoEEncoderTrainerBase(IHostEnvironment env, TOptions options, string name, SequenceTask task)
    {
        Host = Contracts.CheckRef(env, nameof(env)).Register(name);
        if (options is null)
            throw new ArgumentNullException(nameof(options));
        options.Validate();
        _options = (TOptions)options.CloneOptions();
        Task = task;
    }

    private protected IHost Host { get; }

    /// <summary>The settings captured when the trainer was created (later changes to the caller's object do not apply).</summary>
    private protected TOptions Settings => _options;

    internal SequenceTask Task { get; }

    /// <summary>Checks the task's input columns; throws naming the column and the fix.</summary>
    private protected abstract void CheckInputColumns(SchemaShape schema, string dataName);

    /// <summary>Fits the input featurization (vocabulary, pixel scale) on the training data.</summary>
    private protected abstract SequenceInput FitInput(IDataView trainData, IChannel channel, Action checkAlive);

    /// <summary>Optional training-time change of an example (e.g. a random shift of an image).</summary>
    private protected virtual Action<float[], Random>? CreateAugmentation(SequenceInput input) => null;

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public DynMoEEncoderTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="trainData"/>, reporting validation loss on <paramref name="validationData"/> every epoch (and early-stopping on it when <c>EarlyStoppingPatience</c> is set).</summary>
    public DynMoEEncoderTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        Host.CheckValue(trainData, nameof(trainData));
        ValidateSchema(SchemaShape.Create(trainData.Schema), "training");
        if (validationData is not null)
        {
            ValidateSchema(SchemaShape.Create(validationData.Schema), "validation");
            var label = trainData.Schema[_options.LabelColumnName];
            if (!label.Type.Equals(validationData.Schema[_options.LabelColumnName].Type))
                throw new ArgumentOutOfRangeException(nameof(validationData),
                    $"Label column '{label.Name}' is {validationData.Schema[label.Name].Type} in the validation data but {label.Type} in the training data. Apply the same fitted MapValueToKey to both.");
        }
        else if (_options.EarlyStoppingPatience > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DynMoEEncoderOptionsBase.EarlyStoppingPatience),
                $"EarlyStoppingPatience is {_options.EarlyStoppingPatience} but no validation data was given. Call Fit(trainData, validationData) or set EarlyStoppingPatience to 0.");
        }

        using var ch = Host.Start("Training");
        void CheckAlive() { _options.CancellationToken.ThrowIfCancellationRequested(); Host.CheckAlive(); }
        // Resolved before the first pass over the data, so a missing GPU fails at once, not after reading everything.
        var device = DeviceSelection.Resolve(_options.Device, Host);
        if (NativeReproducibility.EnsureFor(device) is string reproducibility)
            ch.Warning(MessageSensitivity.None, "DynMoE: " + reproducibility);
        var labelColumn = trainData.Schema[_options.LabelColumnName];
        int outputs = OutputCount(labelColumn);
        string[] classNames = ClassNames(labelColumn);

        var input = FitInput(trainData, ch, CheckAlive);
        var train = ReadExamples(trainData, input, CheckAlive, ch, "training");
        CheckClasses(train.Labels, labelColumn);
        var source = new SequenceBatchSource(train.Rows, train.Labels, train.Weights, CreateAugmentation(input));
        SequenceBatchSource? validation = null;
        if (validationData is not null)
        {
            var examples = ReadExamples(validationData, input, CheckAlive, ch, "validation");
            if (examples.Rows.Count == 0)
                throw new InvalidOperationException("The validation data has no usable rows. Pass validation rows with a label, or call Fit(trainData) alone.");
            validation = new SequenceBatchSource(examples.Rows, examples.Labels, examples.Weights);
        }

        var encoderOptions = _options.ToEncoderOptions(outputs);
        var settings = new NetworkTrainingSettings
        {
            Objective = Task == SequenceTask.BinaryClassification ? TrainingObjective.BinaryCrossEntropy : TrainingObjective.CrossEntropy,
            Epochs = _options.NumberOfEpochs,
            BatchSize = _options.BatchSize,
            LearningRate = _options.LearningRate,
            WeightDecay = _options.WeightDecay,
            WarmupFraction = _options.WarmupFraction,
            GradientClipNorm = _options.GradientClipNorm,
            Adaptation = _options.Gating == GatingKind.TopAny ? _options.Adaptation : AdaptationSchedule.Off,
            Device = device,
            Seed = _options.Seed ?? ((IHostEnvironmentInternal)Host).Seed ?? Host.Rand.Next(),
            Threads = _options.NumberOfThreads,
            GateLearningRateMultiplier = _options.GateLearningRateMultiplier,
            ResetNewExpertOptimizerState = _options.ResetNewExpertOptimizerState,
            NewExpertWarmupSteps = _options.NewExpertWarmupSteps,
            EarlyStoppingPatience = _options.EarlyStoppingPatience,
            CancellationToken = _options.CancellationToken,
            CheckAlive = CheckAlive,
            OnEpoch = progress =>
            {
                ch.Info(MessageSensitivity.None, "DynMoE " + progress + $", padding {source.PaddingFraction:P1}");
                if (progress.ValidationLoss is double loss && !double.IsFinite(loss))
                    ch.Warning(MessageSensitivity.None, FormattableString.Invariant($"DynMoE: the validation loss of epoch {progress.Epoch} is {loss}; training diverged: lower LearningRate.")
                        + (_options.EarlyStoppingPatience > 0 ? " Early stopping counts the epoch as one without improvement and keeps the best finite epoch." : ""));
                _options.Progress?.Report(progress);
            },
        };

        ch.Info(MessageSensitivity.None, $"DynMoE encoder: {train.Rows.Count} examples, longest {source.FeatureCount} values, {encoderOptions.NumberOfLayers} blocks ({encoderOptions.MoELayers} MoE), width {encoderOptions.Layer.ModelDimension}.");
        var trained = MoENetworkTrainer.Train(settings,
            generator => new TransformerEncoder(encoderOptions, input.CreateEmbedding(encoderOptions.Layer.ModelDimension, generator), generator),
            network => CompiledTransformerEncoder.FromNetwork((TransformerEncoder)network), source, validation);
        ch.Info(MessageSensitivity.None, $"DynMoE padding fraction over training batches: {source.PaddingFraction:P1}.");
        ch.Info(MessageSensitivity.None, $"DynMoE routing after training: {string.Join("; ", trained.Routing.Select(r => r.ToString()))}");

        long tokens = train.Rows.Sum(r => (long)r.Length) + (encoderOptions.Pooling == SequencePooling.ClassToken ? train.Rows.Count : 0);
        var model = new DynMoEEncoderModelParameters(Task, input, trained.Network, new DynMoERoutingSummary(trained.Routing, tokens), classNames);
        return new DynMoEEncoderTransformer(Host, model);
    }

    /// <summary>Checks the input columns and returns the output schema.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Host.CheckValue(inputSchema, nameof(inputSchema));
        ValidateSchema(inputSchema, "input");
        var columns = inputSchema.ToDictionary(c => c.Name);
        if (Task == SequenceTask.BinaryClassification)
        {
            columns[DefaultColumnNames.Score] = new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false);
            columns[DefaultColumnNames.Probability] = new SchemaShape.Column(DefaultColumnNames.Probability, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false);
            columns[DefaultColumnNames.PredictedLabel] = new SchemaShape.Column(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, false);
        }
        else
        {
            inputSchema.TryFindColumn(_options.LabelColumnName, out var label);
            var keyValues = new SchemaShape(label.Annotations.Where(a => a.Name == AnnotationUtils.Kinds.KeyValues));
            columns[DefaultColumnNames.Score] = new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
            columns[DefaultColumnNames.PredictedLabel] = new SchemaShape.Column(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, keyValues);
        }

        return new SchemaShape(columns.Values);
    }

    private void ValidateSchema(SchemaShape schema, string dataName)
    {
        CheckInputColumns(schema, dataName);
        string name = _options.LabelColumnName;
        if (!schema.TryFindColumn(name, out var label))
            throw new ArgumentOutOfRangeException(nameof(DynMoEEncoderOptionsBase.LabelColumnName),
                $"Label column '{name}' was not found in the {dataName} data. Set labelColumnName to the column that holds the label.");
        if (Task == SequenceTask.BinaryClassification && (label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar || label.ItemType != BooleanDataViewType.Instance))
            throw new ArgumentOutOfRangeException(nameof(DynMoEEncoderOptionsBase.LabelColumnName),
                $"Label column '{name}' must be Boolean for binary classification, but it is {Describe(label)}. " +
                $"Load it as bool, or convert it, e.g. mlContext.Transforms.Conversion.ConvertType(\"{name}\", outputKind: DataKind.Boolean) for 0/1 numbers.");
        if (Task == SequenceTask.MulticlassClassification && (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar || label.ItemType != NumberDataViewType.UInt32))
            throw new ArgumentOutOfRangeException(nameof(DynMoEEncoderOptionsBase.LabelColumnName),
                $"Label column '{name}' must be a UInt32 key for multiclass classification, but it is {Describe(label)}. " +
                $"Add mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") before the trainer.");

        if (_options.ExampleWeightColumnName is string weightName)
        {
            if (!schema.TryFindColumn(weightName, out var weight))
                throw new ArgumentOutOfRangeException(nameof(DynMoEEncoderOptionsBase.ExampleWeightColumnName),
                    $"Example weight column '{weightName}' was not found in the {dataName} data. Set ExampleWeightColumnName to an existing column or to null.");
            if (weight.Kind != SchemaShape.Column.VectorKind.Scalar || weight.ItemType != NumberDataViewType.Single)
                throw new ArgumentOutOfRangeException(nameof(DynMoEEncoderOptionsBase.ExampleWeightColumnName),
                    $"Example weight column '{weightName}' must be a Single scalar, but it is {Describe(weight)}.");
        }
    }

    private int OutputCount(DataViewSchema.Column label)
    {
        if (Task == SequenceTask.BinaryClassification)
            return 1;
        return label.Type is KeyDataViewType key && key.Count is >= 1 and <= 1 << 20
            ? (int)key.Count
            : throw new ArgumentOutOfRangeException(nameof(DynMoEEncoderOptionsBase.LabelColumnName), $"Label column '{label.Name}' must be a key with a known number of values; use MapValueToKey.");
    }

    private string[] ClassNames(DataViewSchema.Column label)
    {
        if (Task == SequenceTask.BinaryClassification)
            return Array.Empty<string>();
        int count = OutputCount(label);
        if (label.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues)?.Type is VectorDataViewType { ItemType: TextDataViewType } type && type.Size == count)
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            label.GetKeyValues(ref names);
            return names.DenseValues().Select(v => v.ToString()).ToArray();
        }

        if (label.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues) is DataViewSchema.Column keyValues && keyValues.Type is VectorDataViewType vector && vector.Size == count)
        {
            // Non-text key values (e.g. numbers mapped to keys): their text form.
            var getter = MakeTextGetter(label, vector.ItemType);
            if (getter is not null)
                return getter();
        }

        return Enumerable.Range(1, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    private static Func<string[]>? MakeTextGetter(DataViewSchema.Column label, DataViewType itemType)
    {
        if (itemType == NumberDataViewType.Single)
            return () => { VBuffer<float> v = default; label.Annotations.GetValue(AnnotationUtils.Kinds.KeyValues, ref v); return v.DenseValues().Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(); };
        if (itemType == NumberDataViewType.Double)
            return () => { VBuffer<double> v = default; label.Annotations.GetValue(AnnotationUtils.Kinds.KeyValues, ref v); return v.DenseValues().Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(); };
        if (itemType == NumberDataViewType.Int32)
            return () => { VBuffer<int> v = default; label.Annotations.GetValue(AnnotationUtils.Kinds.KeyValues, ref v); return v.DenseValues().Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(); };
        if (itemType == BooleanDataViewType.Instance)
            return () => { VBuffer<bool> v = default; label.Annotations.GetValue(AnnotationUtils.Kinds.KeyValues, ref v); return v.DenseValues().Select(x => x ? "True" : "False").ToArray(); };
        return null;
    }

    private void CheckClasses(float[] labels, DataViewSchema.Column label)
    {
        if (labels.Length == 0)
            throw new InvalidOperationException(
                $"The training data has no usable rows. Check that '{label.Name}' holds values and that no filter in front of the trainer removed every row.");
        if (labels.Distinct().Count() < 2)
            throw new InvalidOperationException(
                Task == SequenceTask.BinaryClassification
                    ? $"Label column '{label.Name}' is always {(labels[0] > 0 ? "true" : "false")} in the training data; binary classification needs both classes. Check the data, the split, or any filter in front of the trainer."
                    : $"Label column '{label.Name}' has a single class in the training data; multiclass classification needs at least two. Check the data, the split, or any filter in front of the trainer.");
    }

    private (List<float[]> Rows, float[] Labels, float[] Weights) ReadExamples(IDataView data, SequenceInput input, Action checkAlive, IChannel ch, string dataName)
    {
        var columns = input.ColumnNames.Select(n => data.Schema[n]).ToList();
        var label = data.Schema[_options.LabelColumnName];
        columns.Add(label);
        DataViewSchema.Column? weight = _options.ExampleWeightColumnName is string w ? data.Schema[w] : null;
        if (weight is DataViewSchema.Column wc)
            columns.Add(wc);

        var rows = new List<float[]>();
        var labels = new List<float>();
        var weights = new List<float>();
        long missingLabels = 0, invalidWeights = 0, nonFinite = 0;
        using var cursor = data.GetRowCursor(columns);
        var reader = input.CreateReader(cursor);
        ValueGetter<float> labelGetter = Task == SequenceTask.BinaryClassification ? BooleanLabel(cursor, label) : KeyLabel(cursor, label);
        var weightGetter = weight is DataViewSchema.Column wcol ? cursor.GetGetter<float>(wcol) : null;
        var buffer = new float[input.MaximumWidth];
        float labelValue = 0, weightValue = 1;
        while (cursor.MoveNext())
        {
            if ((rows.Count & 255) == 0)
                checkAlive();
            labelGetter(ref labelValue);
            if (float.IsNaN(labelValue))
            {
                missingLabels++;
                continue;
            }

            weightValue = 1;
            weightGetter?.Invoke(ref weightValue);
            if (!(weightValue >= 0) || float.IsInfinity(weightValue))
            {
                invalidWeights++;
                continue;
            }

            Array.Clear(buffer);
            int length = reader(buffer);
            var row = buffer.AsSpan(0, length);
            if (ContainsNonFinite(row))
            {
                nonFinite++;
                continue;
            }

            rows.Add(row.ToArray());
            labels.Add(labelValue);
            weights.Add(weightValue);
        }

        if (missingLabels > 0)
            ch.Info(MessageSensitivity.None, $"DynMoE skipped {missingLabels} {dataName} rows with a missing label.");
        if (invalidWeights > 0)
            ch.Info(MessageSensitivity.None, $"DynMoE skipped {invalidWeights} {dataName} rows with a missing, negative or infinite weight.");
        if (nonFinite > 0)
            ch.Info(MessageSensitivity.None, $"DynMoE skipped {nonFinite} {dataName} rows with NaN or infinite inputs.");
        return (rows, labels.ToArray(), weights.ToArray());
    }

    private static bool ContainsNonFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
                return true;
        }

        return false;
    }

    private static ValueGetter<float> BooleanLabel(DataViewRow row, DataViewSchema.Column label)
    {
        var getter = row.GetGetter<bool>(label);
        bool flag = false;
        return (ref float value) =>
        {
            getter(ref flag);
            value = flag ? 1f : 0f;
        };
    }

    private static ValueGetter<float> KeyLabel(DataViewRow row, DataViewSchema.Column label)
    {
        var getter = row.GetGetter<uint>(label);
        uint key = 0;
        return (ref float value) =>
        {
            getter(ref key);
            value = key == 0 ? float.NaN : key - 1;
        };
    }

    private protected static string Describe(SchemaShape.Column column)
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
