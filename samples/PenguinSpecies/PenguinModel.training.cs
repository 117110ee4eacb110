using System.IO;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE;
using Microsoft.ML.Transforms;

namespace PenguinSpecies;

public partial class PenguinModel
{
    public const string RetrainFilePath = @"samples/data/penguins/data.csv";
    public const char RetrainSeparatorChar = ',';
    public const bool RetrainHasHeader = true;
    public const bool RetrainAllowQuoting = false;

    /// <summary>Trains a model on a CSV file and saves it to <paramref name="outputModelPath"/>.</summary>
    public static void Train(string outputModelPath, DynMoEMulticlassTrainer.Options trainerOptions, string inputDataFilePath = RetrainFilePath,
        char separatorChar = RetrainSeparatorChar, bool hasHeader = RetrainHasHeader, bool allowQuoting = RetrainAllowQuoting)
    {
        var mlContext = new MLContext(seed: 1);
        var data = LoadIDataViewFromFile(mlContext, inputDataFilePath, separatorChar, hasHeader, allowQuoting);
        var model = RetrainModel(mlContext, data, trainerOptions);
        SaveModel(mlContext, model, data, outputModelPath);
    }

    /// <summary>
    /// Loads the CSV with the <see cref="ModelInput"/> schema. Empty numeric cells load as NaN (not 0), so the pipeline's
    /// ReplaceMissingValues sees them; empty text cells load as empty strings, which one-hot encoding treats as missing.
    /// </summary>
    public static IDataView LoadIDataViewFromFile(MLContext mlContext, string inputDataFilePath, char separatorChar, bool hasHeader, bool allowQuoting)
        => mlContext.Data.LoadFromTextFile<ModelInput>(inputDataFilePath, new TextLoader.Options
        {
            Separators = new[] { separatorChar },
            HasHeader = hasHeader,
            AllowQuoting = allowQuoting,
            MissingRealsAsNaNs = true,
        });

    /// <summary>Saves the model with the input schema, as Model Builder does (a <c>.mlnet</c> file is an ML.NET model zip).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, IDataView data, string modelSavePath)
    {
        DataViewSchema dataViewSchema = data.Schema;
        using var stream = File.Create(modelSavePath);
        mlContext.Model.Save(model, dataViewSchema, stream);
    }

    /// <summary>Fits <see cref="BuildPipeline"/> on <paramref name="trainData"/>.</summary>
    public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData, DynMoEMulticlassTrainer.Options trainerOptions)
    {
        var pipeline = BuildPipeline(mlContext, trainerOptions);
        return pipeline.Fit(trainData);
    }

    /// <summary>
    /// The training pipeline for mixed data: one-hot encode the categorical text columns, replace missing measurements
    /// with the training mean, concatenate everything into one Single vector, then DynMoE. No normaliser: features are
    /// standardised inside the model.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, DynMoEMulticlassTrainer.Options trainerOptions)
    {
        trainerOptions.LabelColumnName = @"Label";
        trainerOptions.FeatureColumnName = @"Features";
        var pipeline = mlContext.Transforms.Categorical.OneHotEncoding(new[] {
                new InputOutputColumnPair(@"island", @"island"),
                new InputOutputColumnPair(@"sex", @"sex") })
            .Append(mlContext.Transforms.ReplaceMissingValues(new[] {
                new InputOutputColumnPair(@"bill_length_mm", @"bill_length_mm"),
                new InputOutputColumnPair(@"bill_depth_mm", @"bill_depth_mm"),
                new InputOutputColumnPair(@"flipper_length_mm", @"flipper_length_mm"),
                new InputOutputColumnPair(@"body_mass_g", @"body_mass_g"),
                new InputOutputColumnPair(@"year", @"year") },
                replacementMode: MissingValueReplacingEstimator.ReplacementMode.Mean))
            .Append(mlContext.Transforms.Concatenate(@"Features", new[] {
                @"island", @"sex", @"bill_length_mm", @"bill_depth_mm", @"flipper_length_mm", @"body_mass_g", @"year" }))
            .Append(mlContext.Transforms.Conversion.MapValueToKey(outputColumnName: @"Label", inputColumnName: @"Label"))
            .Append(mlContext.MulticlassClassification.Trainers.DynMoE(trainerOptions))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(outputColumnName: @"PredictedLabel", inputColumnName: @"PredictedLabel"));
        return pipeline;
    }
}
