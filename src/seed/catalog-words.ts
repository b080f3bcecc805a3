/**
 * Word lists for the generated catalog: a fixed taxonomy (10 departments × 6 categories × 6
 * sub-categories), the nouns, materials, features and uses each department's products are described
 * with, and the variant axes (size, colour, capacity...). Product names and descriptions are built
 * from these, so full-text and trigram searches ("wireless headphones", "leather wallet",
 * "organic coffee") have realistic hits.
 */

export interface VariantAxis {
  name: string;
  values: readonly string[];
}

export interface Department {
  name: string;
  /** Typical price in cents (the median of a log-normal) and its spread. */
  medianCents: number;
  sigma: number;
  /** Sub-category qualifiers: each category gets one sub-category per qualifier ("Wireless Headphones"). */
  qualifiers: readonly string[];
  categories: readonly { name: string; nouns: readonly string[] }[];
  materials: readonly string[];
  features: readonly string[];
  uses: readonly string[];
  /** What variants differ by; the first axis varies first. */
  axes: readonly VariantAxis[];
}

const COLOURS = ['Black', 'White', 'Grey', 'Navy', 'Red', 'Green', 'Blue', 'Beige', 'Pink', 'Olive'];
const SIZES = ['XS', 'S', 'M', 'L', 'XL', 'XXL'];

export const DEPARTMENTS: readonly Department[] = [
  {
    name: 'Electronics',
    medianCents: 12_900,
    sigma: 0.9,
    qualifiers: ['Wireless', 'Portable', 'Smart', 'Professional', 'Compact', 'Gaming'],
    categories: [
      { name: 'Headphones', nouns: ['Headphones', 'Earbuds', 'Headset', 'In-Ear Monitors'] },
      { name: 'Speakers', nouns: ['Speaker', 'Soundbar', 'Subwoofer', 'Bookshelf Speakers'] },
      { name: 'Cameras', nouns: ['Camera', 'Action Camera', 'Webcam', 'Dash Cam', 'Lens'] },
      { name: 'Phones', nouns: ['Smartphone', 'Phone Case', 'Charger', 'Power Bank', 'Screen Protector'] },
      { name: 'Computers', nouns: ['Laptop', 'Keyboard', 'Mouse', 'Monitor', 'Docking Station'] },
      { name: 'Wearables', nouns: ['Smartwatch', 'Fitness Tracker', 'Watch Band', 'Smart Ring'] },
    ],
    materials: ['aluminium', 'recycled plastic', 'tempered glass', 'silicone', 'carbon fibre'],
    features: ['Bluetooth 5.3', 'active noise cancelling', 'USB-C fast charging', '30-hour battery life', 'water resistance (IPX5)', 'low-latency mode', 'voice assistant support', 'a 4K sensor'],
    uses: ['commuting', 'working from home', 'travel', 'gaming sessions', 'video calls', 'workouts'],
    axes: [{ name: 'colour', values: COLOURS.slice(0, 5) }, { name: 'storage', values: ['64 GB', '128 GB', '256 GB'] }],
  },
  {
    name: 'Home & Kitchen',
    medianCents: 3_900,
    sigma: 0.8,
    qualifiers: ['Stainless', 'Nonstick', 'Modern', 'Rustic', 'Compact', 'Premium'],
    categories: [
      { name: 'Cookware', nouns: ['Frying Pan', 'Saucepan', 'Dutch Oven', 'Wok', 'Stockpot'] },
      { name: 'Kitchen Appliances', nouns: ['Blender', 'Toaster', 'Kettle', 'Coffee Maker', 'Air Fryer'] },
      { name: 'Tableware', nouns: ['Dinner Plate Set', 'Mug', 'Glass Set', 'Serving Bowl', 'Cutlery Set'] },
      { name: 'Bedding', nouns: ['Duvet Cover', 'Pillow', 'Sheet Set', 'Blanket', 'Mattress Topper'] },
      { name: 'Furniture', nouns: ['Coffee Table', 'Bookshelf', 'Office Chair', 'Side Table', 'Bar Stool'] },
      { name: 'Storage', nouns: ['Storage Box', 'Food Container', 'Laundry Basket', 'Shelf Organizer'] },
    ],
    materials: ['stainless steel', 'cast iron', 'bamboo', 'oak wood', 'ceramic', 'linen', 'organic cotton'],
    features: ['dishwasher-safe parts', 'an ergonomic handle', 'a 5-year warranty', 'a space-saving design', 'easy-clean surfaces', 'induction compatibility'],
    uses: ['everyday cooking', 'family dinners', 'small apartments', 'entertaining guests', 'meal prep'],
    axes: [{ name: 'colour', values: COLOURS.slice(0, 6) }, { name: 'size', values: ['Small', 'Medium', 'Large'] }],
  },
  {
    name: 'Fashion',
    medianCents: 4_900,
    sigma: 0.7,
    qualifiers: ["Women's", "Men's", 'Kids', 'Vintage', 'Organic', 'Designer'],
    categories: [
      { name: 'Tops', nouns: ['T-Shirt', 'Shirt', 'Blouse', 'Sweater', 'Hoodie'] },
      { name: 'Bottoms', nouns: ['Jeans', 'Chinos', 'Shorts', 'Skirt', 'Joggers'] },
      { name: 'Outerwear', nouns: ['Jacket', 'Raincoat', 'Parka', 'Blazer', 'Vest'] },
      { name: 'Shoes', nouns: ['Sneakers', 'Boots', 'Sandals', 'Loafers', 'Running Shoes'] },
      { name: 'Bags', nouns: ['Backpack', 'Tote Bag', 'Wallet', 'Crossbody Bag', 'Duffel Bag'] },
      { name: 'Accessories', nouns: ['Scarf', 'Belt', 'Cap', 'Sunglasses', 'Gloves'] },
    ],
    materials: ['organic cotton', 'leather', 'merino wool', 'recycled polyester', 'denim', 'linen', 'suede'],
    features: ['a relaxed fit', 'reinforced stitching', 'a water-repellent finish', 'hidden pockets', 'breathable fabric', 'adjustable straps'],
    uses: ['everyday wear', 'the office', 'weekend trips', 'cold mornings', 'summer evenings'],
    axes: [{ name: 'size', values: SIZES }, { name: 'colour', values: COLOURS }],
  },
  {
    name: 'Sports & Outdoors',
    medianCents: 5_900,
    sigma: 0.9,
    qualifiers: ['Lightweight', 'Waterproof', 'Trail', 'Pro', 'Beginner', 'Ultralight'],
    categories: [
      { name: 'Camping', nouns: ['Tent', 'Sleeping Bag', 'Camping Stove', 'Headlamp', 'Camp Chair'] },
      { name: 'Cycling', nouns: ['Bike Helmet', 'Bike Light', 'Cycling Jersey', 'Bike Lock', 'Saddle'] },
      { name: 'Fitness', nouns: ['Yoga Mat', 'Dumbbell Set', 'Resistance Bands', 'Kettlebell', 'Jump Rope'] },
      { name: 'Running', nouns: ['Running Shoes', 'Running Belt', 'Hydration Vest', 'Running Shorts'] },
      { name: 'Water Sports', nouns: ['Swim Goggles', 'Wetsuit', 'Paddle Board', 'Dry Bag', 'Snorkel Set'] },
      { name: 'Team Sports', nouns: ['Football', 'Basketball', 'Shin Guards', 'Goalkeeper Gloves'] },
    ],
    materials: ['ripstop nylon', 'aluminium', 'neoprene', 'recycled polyester', 'natural rubber', 'EVA foam'],
    features: ['a waterproof shell', 'reflective details', 'a packable design', 'a non-slip grip', 'quick-dry fabric', 'a lifetime warranty'],
    uses: ['weekend hikes', 'marathon training', 'camping trips', 'home workouts', 'open-water swims'],
    axes: [{ name: 'size', values: SIZES.slice(1, 5) }, { name: 'colour', values: COLOURS.slice(0, 7) }],
  },
  {
    name: 'Books',
    medianCents: 1_600,
    sigma: 0.5,
    qualifiers: ['Bestselling', 'Illustrated', 'Classic', 'Beginner', 'Advanced', 'Collected'],
    categories: [
      { name: 'Fiction', nouns: ['Novel', 'Short Story Collection', 'Thriller', 'Mystery Novel'] },
      { name: 'Cooking', nouns: ['Cookbook', 'Baking Book', 'Recipe Collection', 'Vegan Cookbook'] },
      { name: 'Science', nouns: ['Science Guide', 'Physics Primer', 'Astronomy Atlas', 'Biology Textbook'] },
      { name: 'History', nouns: ['History Book', 'Biography', 'War Memoir', 'Historical Atlas'] },
      { name: 'Children', nouns: ['Picture Book', 'Bedtime Stories', 'Activity Book', 'Early Reader'] },
      { name: 'Business', nouns: ['Business Handbook', 'Leadership Guide', 'Marketing Playbook', 'Finance Guide'] },
    ],
    materials: ['recycled paper', 'a cloth hardcover', 'full-colour pages', 'a lay-flat binding'],
    features: ['an introduction by the author', 'over 200 illustrations', 'a new afterword', 'practical exercises', 'an annotated index'],
    uses: ['curious readers', 'book clubs', 'gifting', 'students', 'long flights'],
    axes: [{ name: 'format', values: ['Paperback', 'Hardcover', 'E-book'] }],
  },
  {
    name: 'Toys & Games',
    medianCents: 2_900,
    sigma: 0.7,
    qualifiers: ['Educational', 'Wooden', 'Electronic', 'Outdoor', 'Family', 'Collectible'],
    categories: [
      { name: 'Building Sets', nouns: ['Building Set', 'Construction Kit', 'Marble Run', 'Magnetic Tiles'] },
      { name: 'Board Games', nouns: ['Board Game', 'Card Game', 'Puzzle', 'Strategy Game', 'Party Game'] },
      { name: 'Dolls', nouns: ['Doll', 'Dollhouse', 'Action Figure', 'Plush Toy'] },
      { name: 'Vehicles', nouns: ['Toy Car', 'Train Set', 'Remote Control Car', 'Drone'] },
      { name: 'Creative Play', nouns: ['Art Set', 'Modelling Clay', 'Craft Kit', 'Science Kit'] },
      { name: 'Baby Toys', nouns: ['Rattle', 'Stacking Rings', 'Play Mat', 'Teether'] },
    ],
    materials: ['FSC wood', 'BPA-free plastic', 'organic cotton', 'recycled cardboard', 'water-based paint'],
    features: ['rechargeable batteries', 'over 500 pieces', 'a storage case', 'easy-to-read rules', 'rounded edges'],
    uses: ['ages 3 and up', 'family game night', 'rainy afternoons', 'birthday gifts', 'classrooms'],
    axes: [{ name: 'edition', values: ['Standard', 'Deluxe', 'Travel'] }],
  },
  {
    name: 'Beauty',
    medianCents: 2_200,
    sigma: 0.6,
    qualifiers: ['Organic', 'Vegan', 'Sensitive', 'Travel', 'Luxury', 'Fragrance-Free'],
    categories: [
      { name: 'Skincare', nouns: ['Moisturizer', 'Serum', 'Cleanser', 'Sunscreen', 'Face Mask'] },
      { name: 'Haircare', nouns: ['Shampoo', 'Conditioner', 'Hair Oil', 'Hair Dryer', 'Styling Gel'] },
      { name: 'Makeup', nouns: ['Lipstick', 'Mascara', 'Foundation', 'Eyeshadow Palette', 'Blush'] },
      { name: 'Fragrance', nouns: ['Eau de Parfum', 'Body Mist', 'Cologne', 'Scented Candle'] },
      { name: 'Bath & Body', nouns: ['Body Wash', 'Body Lotion', 'Bath Salts', 'Hand Cream', 'Soap Bar'] },
      { name: 'Grooming', nouns: ['Beard Oil', 'Razor', 'Trimmer', 'Shaving Cream'] },
    ],
    materials: ['aloe vera', 'shea butter', 'hyaluronic acid', 'argan oil', 'vitamin C', 'green tea extract'],
    features: ['dermatologist-tested formulas', 'recyclable packaging', 'a light texture', 'SPF 30', 'no parabens'],
    uses: ['daily routines', 'dry skin', 'curly hair', 'evenings out', 'sensitive skin'],
    axes: [{ name: 'volume', values: ['30 ml', '50 ml', '100 ml', '250 ml'] }],
  },
  {
    name: 'Garden',
    medianCents: 3_400,
    sigma: 0.9,
    qualifiers: ['Cordless', 'Heavy-Duty', 'Solar', 'Raised', 'Indoor', 'Self-Watering'],
    categories: [
      { name: 'Garden Tools', nouns: ['Pruning Shears', 'Garden Spade', 'Rake', 'Hedge Trimmer', 'Lawn Mower'] },
      { name: 'Planters', nouns: ['Planter', 'Plant Pot', 'Hanging Basket', 'Garden Bed'] },
      { name: 'Watering', nouns: ['Garden Hose', 'Watering Can', 'Sprinkler', 'Drip Irrigation Kit'] },
      { name: 'Outdoor Lighting', nouns: ['String Lights', 'Path Light', 'Lantern', 'Floodlight'] },
      { name: 'Outdoor Furniture', nouns: ['Garden Bench', 'Hammock', 'Patio Set', 'Parasol', 'Deck Chair'] },
      { name: 'Seeds & Plants', nouns: ['Seed Kit', 'Herb Garden', 'Bulb Collection', 'Compost'] },
    ],
    materials: ['galvanised steel', 'teak', 'terracotta', 'weatherproof resin', 'recycled plastic'],
    features: ['frost resistance', 'a 3-year warranty', 'drainage holes', 'a 40 V battery', 'UV-resistant finish'],
    uses: ['balconies', 'vegetable gardens', 'summer evenings', 'small yards', 'greenhouses'],
    axes: [{ name: 'size', values: ['Small', 'Medium', 'Large', 'Extra Large'] }],
  },
  {
    name: 'Automotive',
    medianCents: 4_500,
    sigma: 1.0,
    qualifiers: ['Universal', 'Heavy-Duty', 'All-Weather', 'Performance', 'Compact', 'Premium'],
    categories: [
      { name: 'Car Care', nouns: ['Car Wax', 'Microfibre Towels', 'Pressure Washer', 'Car Shampoo'] },
      { name: 'Car Electronics', nouns: ['Dash Cam', 'Car Charger', 'Phone Mount', 'Jump Starter'] },
      { name: 'Tools', nouns: ['Socket Set', 'Torque Wrench', 'Tyre Inflator', 'Car Jack'] },
      { name: 'Interior', nouns: ['Seat Cover', 'Floor Mats', 'Steering Wheel Cover', 'Organizer'] },
      { name: 'Exterior', nouns: ['Roof Box', 'Bike Rack', 'Car Cover', 'Wiper Blades'] },
      { name: 'Parts', nouns: ['Brake Pads', 'Air Filter', 'Spark Plugs', 'Headlight Bulbs'] },
    ],
    materials: ['chrome vanadium steel', 'rubber', 'microfibre', 'ABS plastic', 'aluminium'],
    features: ['a universal fit', 'easy installation', 'all-weather protection', 'a 2-year warranty', 'a carrying case'],
    uses: ['road trips', 'daily commutes', 'winter driving', 'weekend detailing', 'roadside emergencies'],
    axes: [{ name: 'fit', values: ['Standard', 'SUV', 'Van'] }],
  },
  {
    name: 'Grocery',
    medianCents: 900,
    sigma: 0.6,
    qualifiers: ['Organic', 'Gluten-Free', 'Fair Trade', 'Sugar-Free', 'Artisan', 'Bulk'],
    categories: [
      { name: 'Coffee & Tea', nouns: ['Coffee Beans', 'Ground Coffee', 'Green Tea', 'Herbal Tea', 'Espresso Pods'] },
      { name: 'Snacks', nouns: ['Granola Bars', 'Trail Mix', 'Dark Chocolate', 'Potato Chips', 'Rice Crackers'] },
      { name: 'Pantry', nouns: ['Olive Oil', 'Pasta', 'Basmati Rice', 'Honey', 'Peanut Butter'] },
      { name: 'Breakfast', nouns: ['Granola', 'Oatmeal', 'Pancake Mix', 'Jam', 'Muesli'] },
      { name: 'Spices', nouns: ['Spice Set', 'Sea Salt', 'Black Pepper', 'Curry Powder', 'Chili Flakes'] },
      { name: 'Drinks', nouns: ['Sparkling Water', 'Fruit Juice', 'Kombucha', 'Cold Brew'] },
    ],
    materials: ['single-origin beans', 'whole grains', 'cold-pressed oil', 'wildflower honey', 'roasted nuts'],
    features: ['no added sugar', 'resealable packaging', 'small-batch production', 'vegan ingredients', 'a rich flavour'],
    uses: ['busy mornings', 'healthy snacking', 'home baking', 'the office pantry', 'picnics'],
    axes: [{ name: 'weight', values: ['250 g', '500 g', '1 kg'] }],
  },
];

export const ADJECTIVES = [
  'Classic', 'Essential', 'Ultra', 'Premium', 'Everyday', 'Deluxe', 'Signature', 'Eco', 'Urban', 'Nordic',
  'Heritage', 'Studio', 'Elite', 'Smart', 'Original', 'Advanced', 'Soft', 'Rugged', 'Slim', 'Pure',
];

export const MODEL_SUFFIXES = ['Pro', 'Max', 'Lite', 'Plus', 'Mini', 'Air', 'One', 'II', 'X', 'S'];

const BRAND_STARTS = [
  'Al', 'Bel', 'Cor', 'Dra', 'El', 'Fen', 'Gal', 'Hal', 'Ir', 'Jor', 'Kel', 'Lum', 'Mar', 'Nor', 'Or',
  'Pel', 'Quin', 'Ros', 'Sol', 'Tor', 'Ul', 'Vel', 'Wes', 'Zen',
];
const BRAND_ENDS = ['ix', 'ora', 'ton', 'vik', 'ara', 'ell', 'io', 'mont', 'wood', 'line', 'tek', 'ca', 'sa', 'ford', 'berg', 'ano'];

/** `count` distinct, pronounceable brand names ("Norvik", "Selora"), always the same list. */
export function brandNames(count: number): string[] {
  const names: string[] = [];
  for (let i = 0; names.length < count; i++) {
    const start = BRAND_STARTS[i % BRAND_STARTS.length];
    const end = BRAND_ENDS[(i * 7 + Math.floor(i / BRAND_STARTS.length)) % BRAND_ENDS.length];
    const round = Math.floor(i / (BRAND_STARTS.length * BRAND_ENDS.length));
    names.push(round ? `${start}${end} ${round + 1}` : `${start}${end}`);
  }
  return names;
}

export const SHOP_WORDS = ['Store', 'Outlet', 'Market', 'Supply', 'Goods', 'Trading', 'House', 'Depot'];
