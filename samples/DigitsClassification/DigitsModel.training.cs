using System.IO;
using Microsoft.ML;
using Microsoft.ML.DynMoE;

namespace DigitsClassification;

public partial class DigitsModel
{
    public const string RetrainFilePath = @"samples/data/digits/data.csv";
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

    /// <summary>Loads the CSV with the <see cref="ModelInput"/> schema.</summary>
    public static IDataView LoadIDataViewFromFile(MLContext mlContext, string inputDataFilePath, char separatorChar, bool hasHeader, bool allowQuoting)
        => mlContext.Data.LoadFromTextFile<ModelInput>(inputDataFilePath, separatorChar, hasHeader, allowQuoting: allowQuoting);

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
    /// The training pipeline: the 64 pixel intensities become the feature vector, the digit text becomes a key, DynMoE
    /// learns the classes (no normaliser needed: features are standardised inside the model), and the predicted key is
    /// mapped back to the digit text.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, DynMoEMulticlassTrainer.Options trainerOptions)
    {
        trainerOptions.LabelColumnName = @"Label";
        trainerOptions.FeatureColumnName = @"Features";
        var pipeline = mlContext.Transforms.Concatenate(@"Features", new[] {
                @"pixel_0_0", @"pixel_0_1", @"pixel_0_2", @"pixel_0_3", @"pixel_0_4", @"pixel_0_5", @"pixel_0_6", @"pixel_0_7",
                @"pixel_1_0", @"pixel_1_1", @"pixel_1_2", @"pixel_1_3", @"pixel_1_4", @"pixel_1_5", @"pixel_1_6", @"pixel_1_7",
                @"pixel_2_0", @"pixel_2_1", @"pixel_2_2", @"pixel_2_3", @"pixel_2_4", @"pixel_2_5", @"pixel_2_6", @"pixel_2_7",
                @"pixel_3_0", @"pixel_3_1", @"pixel_3_2", @"pixel_3_3", @"pixel_3_4", @"pixel_3_5", @"pixel_3_6", @"pixel_3_7",
                @"pixel_4_0", @"pixel_4_1", @"pixel_4_2", @"pixel_4_3", @"pixel_4_4", @"pixel_4_5", @"pixel_4_6", @"pixel_4_7",
                @"pixel_5_0", @"pixel_5_1", @"pixel_5_2", @"pixel_5_3", @"pixel_5_4", @"pixel_5_5", @"pixel_5_6", @"pixel_5_7",
                @"pixel_6_0", @"pixel_6_1", @"pixel_6_2", @"pixel_6_3", @"pixel_6_4", @"pixel_6_5", @"pixel_6_6", @"pixel_6_7",
                @"pixel_7_0", @"pixel_7_1", @"pixel_7_2", @"pixel_7_3", @"pixel_7_4", @"pixel_7_5", @"pixel_7_6", @"pixel_7_7" })
            .Append(mlContext.Transforms.Conversion.MapValueToKey(outputColumnName: @"Label", inputColumnName: @"Label"))
            .Append(mlContext.MulticlassClassification.Trainers.DynMoE(trainerOptions))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(outputColumnName: @"PredictedLabel", inputColumnName: @"PredictedLabel"));
        return pipeline;
    }
}
