/// The categories and text `scan` uses when given none: eight semantic
/// categories, each with words that occur in the text, some several times,
/// some as several words ("New York") or several tokens ("giraffe"), and a
/// text that mixes them with ordinary words, so every category has other
/// words to stand out against.
enum ScanDefaults {
    static let categories: [(name: String, entries: [String])] = [
        ("location", ["Paris", "Lisbon", "Nairobi", "Tokyo", "New York", "Canada", "Peru", "village", "harbour", "mountains"]),
        ("number", ["one", "two", "three", "seven", "twelve", "forty", "hundred", "thousand", "dozen"]),
        ("food", ["bread", "cheese", "rice", "soup", "apples", "ice cream", "noodles", "olives", "pepper", "honey"]),
        ("date", ["Monday", "Friday", "Sunday", "January", "March", "August", "December", "yesterday", "tomorrow", "morning"]),
        ("animal", ["dog", "cat", "horse", "giraffe", "dolphin", "sparrow", "lion", "goats", "rabbit", "owl"]),
        ("vehicle", ["car", "bus", "train", "bicycle", "truck", "boat", "airplane", "tram", "scooter", "ferry"]),
        ("colour", ["red", "blue", "green", "yellow", "purple", "orange", "black", "white", "grey", "brown"]),
        ("language", ["English", "French", "Spanish", "Japanese", "Swahili", "German", "Portuguese", "Arabic", "Hindi", "Quechua"]),
    ]

    static let text = """
    On Monday morning the train from Paris left at seven, and two hundred people sat in its twelve carriages. \
    A woman in a red coat read a French newspaper and ate bread with cheese. Beside her a boy held a small dog \
    and a blue bicycle helmet. By Friday the same travellers had reached Lisbon, where the harbour smelled of \
    olives and rice soup, and a ferry with a yellow funnel waited at the quay. Nobody spoke Portuguese at first, \
    but a sailor who knew some Spanish and a little English helped them find a bus to the village.

    In January I flew on an airplane from Tokyo to Nairobi. The pilot greeted us in Japanese, then in English, \
    and later a guide taught us forty words of Swahili. We saw a giraffe, a lion and three green parrots from the \
    back of a brown truck; the guide said a dozen goats had been lost the week before. That evening we ate \
    noodles with black pepper and honey, and someone played a song about a white horse.

    My grandmother lived in Canada for one year and in Peru for another. She kept a cat, a rabbit and an old \
    owl that slept in the barn, and she grew apples, oranges and purple beans behind the house. Every Sunday she \
    drove her grey car to the market, bought a thousand grains of rice for the sparrow on her window, and came \
    home with ice cream. In March she took a tram across the city and a boat along the coast; in August she \
    rode a scooter in the mountains, and she wrote letters in German and Arabic to friends she had met on a train.

    Yesterday a dolphin followed our boat for an hour. Tomorrow we take the bus to New York, where a cousin \
    who studies Hindi and Quechua will meet us. She says December there is cold, so we packed an orange scarf, \
    two black hats and bread for the journey. Between trips I read about languages, count the days until \
    Friday, and wonder whether a horse, a dog or a cat would make the better travelling companion.
    """
}
