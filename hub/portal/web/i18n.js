// i18n.js — the portal's words in 日本語, English and やさしい日本語 (easy Japanese: short
// sentences, everyday words, kana for hard kanji), the language chosen (remembered in
// localStorage: a preference, not personal data) and t(key, vars) to look words up.

const LANG_KEY = 'renkei.lang';

export const languages = [
  { id: 'ja', tag: 'ja', label: '日本語' },
  { id: 'en', tag: 'en', label: 'English' },
  { id: 'easy', tag: 'ja', label: 'やさしい にほんご' },
];

// key: [日本語, English, やさしい日本語]. {name} is replaced by vars.name.
const WORDS = {
  site_name: ['れんけい 施設予約', 'Renkei facility booking', 'れんけい しせつ よやく'],
  nav_label: ['メニュー', 'Menu', 'メニュー'],
  nav_search: ['施設をさがす', 'Find a facility', 'しせつを さがす'],
  nav_bookings: ['わたしの予約', 'My bookings', 'わたしの よやく'],
  language: ['言語', 'Language', 'ことば'],
  logged_in_as: ['{name} さん（{city}）でログイン中', 'Logged in as {name} ({city})', '{name} さん（{city}）で ログイン しています'],
  not_logged_in: ['ログインしていません', 'Not logged in', 'ログイン していません'],
  login: ['ログイン', 'Log in', 'ログイン'],
  logout: ['ログアウト', 'Log out', 'ログアウト'],
  login_title: ['ログイン', 'Log in', 'ログイン'],
  login_choose_city: ['お住まいの市区町村', 'The city you live in', 'すんでいる まち'],
  login_hint: ['お住まいの市区町村のログイン画面に移動します。一度のログインで、ほかの市区町村の施設も予約できます。', 'You will go to your city’s login page. One login works for every city’s facilities.', 'あなたの まちの ログイン がめんに いきます。いちど ログイン すると、ほかの まちの しせつも よやく できます。'],
  login_continue: ['ログイン画面へ', 'Continue to log in', 'ログイン がめんへ'],
  login_none: ['ログインできる市区町村がまだありません。', 'No city offers login here yet.', 'まだ ログイン できる まちが ありません。'],
  login_failed: ['ログインできませんでした（{why}）。もう一度お試しください。', 'Login did not complete ({why}). Please try again.', 'ログイン できませんでした（{why}）。もういちど ためして ください。'],
  login_to_book: ['予約するにはログインしてください。', 'Log in to book.', 'よやく するには ログイン して ください。'],
  login_to_see: ['予約を見るにはログインしてください。', 'Log in to see your bookings.', 'よやくを みるには ログイン して ください。'],
  hub_unreachable: ['サーバーに接続できません。しばらくしてから再読み込みしてください。', 'The hub cannot be reached. Please reload in a moment.', 'サーバーに つながりません。すこし まってから もういちど ひらいて ください。'],
  not_found: ['ページが見つかりません', 'Page not found', 'ページが ありません'],
  loading: ['読み込み中…', 'Loading…', 'よみこんで います…'],

  search_title: ['施設をさがす', 'Find a facility', 'しせつを さがす'],
  purpose: ['目的・施設の種類', 'Purpose or kind of facility', 'なにを しますか（しせつの しゅるい）'],
  purpose_hint: ['例: テニス、野球、会議室。ひらがな・ローマ字でも探せます。', 'For example: tennis, baseball, meeting room.', 'れい: テニス、やきゅう、かいぎしつ。ひらがなでも さがせます。'],
  date: ['日付', 'Date', 'ひにち'],
  from: ['開始時刻', 'From', 'はじまる じかん'],
  to: ['終了時刻', 'Until', 'おわる じかん'],
  min_free: ['空いている長さ', 'Free for at least', 'あいている ながさ'],
  any_length: ['指定しない', 'Any length', 'きめない'],
  hours: ['{n}時間以上', '{n} h or more', '{n}じかん いじょう'],
  where: ['場所', 'Where', 'ばしょ'],
  where_any: ['どこでも', 'Anywhere', 'どこでも'],
  where_me: ['現在地の近く', 'Near me', 'いま いる ところの ちかく'],
  where_me_hint: ['「さがす」を押すと、ブラウザーが位置情報の利用を確認します。位置はこの検索にだけ使い、保存しません。', 'When you search, your browser asks before sharing your location. It is used for this search only and not stored.', '「さがす」を おすと、ブラウザーが いばしょを つかって よいか ききます。いばしょは この けんさくに だけ つかいます。'],
  where_place: ['駅・市役所の近く', 'Near a station or city hall', 'えき・しやくしょの ちかく'],
  place: ['駅・市役所', 'Station or city hall', 'えき・しやくしょ'],
  radius: ['距離', 'Within', 'きょり'],
  no_limit: ['制限なし', 'No limit', 'きめない'],
  city: ['市区町村', 'City', 'まち'],
  all_cities: ['すべての市区町村', 'Every city', 'すべての まち'],
  max_fee: ['1時間あたりの料金の上限（円）', 'Most you want to pay per hour (yen)', '1じかんの りょうきんは いくらまで（えん）'],
  max_fee_hint: ['あなたの料金（住民・協定による料金）で比べます。空欄なら制限なし。', 'Compared with your own price (resident or agreement rate). Empty for no limit.', 'あなたの りょうきんで くらべます。かかなければ きめません。'],
  accessibility: ['バリアフリー', 'Accessibility', 'バリアフリー'],
  sort: ['並べ方', 'Order', 'ならべかた'],
  sort_relevance: ['おすすめ順', 'Best match', 'おすすめ'],
  sort_soonest: ['空きが早い順', 'Soonest free slot', 'はやく あいている じゅん'],
  sort_price: ['料金が安い順', 'Lowest price', 'やすい じゅん'],
  sort_distance: ['近い順', 'Nearest', 'ちかい じゅん'],
  search: ['さがす', 'Search', 'さがす'],
  searching: ['さがしています…', 'Searching…', 'さがして います…'],
  fix_these: ['入力を確認してください:', 'Please check:', 'ここを なおして ください:'],
  err_date: ['「日付」を正しく入力してください。', '“Date” must be a date.', '「ひにち」を ただしく かいて ください。'],
  err_time: ['「終了時刻」は「開始時刻」より後にしてください。', '“Until” must be later than “From”.', '「おわる じかん」は「はじまる じかん」より あとに して ください。'],
  err_fee: ['「料金の上限」は数字（円）で入力してください。', '“Most you want to pay” must be a whole number of yen.', '「りょうきん」は すうじで かいて ください。'],
  err_geo: ['現在地を取得できませんでした。駅・市役所から選んでください。', 'Your location is not available. Choose a station or city hall instead.', 'いばしょが わかりません。えき・しやくしょから えらんで ください。'],
  search_failed: ['検索できませんでした（{why}）。', 'The search failed ({why}).', 'さがせませんでした（{why}）。'],
  kinds_unavailable: ['施設の種類の候補を読み込めませんでした。文字で入力してください。', 'Suggestions are not available; type the purpose in words.', 'こうほが でません。ことばで かいて ください。'],
  found: ['{n}件見つかりました。', '{n} found.', '{n}けん みつかりました。'],
  results: ['検索結果', 'Results', 'みつかった しせつ'],
  no_results: ['条件に合う施設はありません。日付や場所を変えてみてください。', 'Nothing matches. Try another date or place.', 'ありません。ひにちや ばしょを かえて みて ください。'],
  more: ['さらに表示', 'Show more', 'もっと みる'],
  city_statuses: ['市区町村ごとの応答', 'Answers from each city', 'まちごとの へんじ'],
  status_ok: ['応答あり', 'answered', 'へんじ あり'],
  status_timeout: ['応答なし（時間切れ）', 'no answer in time', 'へんじが ありません'],
  status_error: ['エラー', 'error', 'エラー'],
  status_unavailable: ['停止中', 'unavailable', 'とまって います'],
  status_stale: ['少し前の情報', 'earlier information', 'すこし まえの じょうほう'],
  status_unspecified: ['不明', 'unknown', 'わかりません'],
  map_caption: ['検索結果の地図（{n}施設、番号は一覧と同じ）', 'Map of the results ({n} facilities, numbered as in the list)', 'みつかった しせつの ちず（{n}、ばんごうは リストと おなじ）'],
  map_note: ['地図は座標から描いたもので、道路は表示しません。', 'Drawn from coordinates only; roads are not shown.', 'ざひょうから かいた ちずです。みちは ありません。'],
  north: ['北', 'North', 'きた'],
  you_are_here: ['現在地', 'You', 'いま いる ところ'],
  meters: ['{n} m', '{n} m', '{n} メートル'],
  kilometers: ['{n} km', '{n} km', '{n} キロメートル'],
  kind: ['種類', 'Kind', 'しゅるい'],
  distance: ['距離', 'Distance', 'きょり'],
  your_price: ['あなたの料金', 'Your price', 'あなたの りょうきん'],
  per_hour_from: ['1時間 {fee} から', 'from {fee} per hour', '1じかん {fee} から'],
  price_unknown: ['料金は施設にお問い合わせください', 'Ask the facility for the price', 'りょうきんは しせつに きいて ください'],
  next_free: ['次の空き', 'Next free slot', 'つぎに あいている じかん'],
  none_in_window: ['この時間帯に空きなし', 'none in this window', 'この じかんは あいて いません'],
  not_eligible: ['この施設は予約できません。', 'You cannot book this facility.', 'この しせつは よやく できません。'],
  not_bookable_here: ['この施設はここでは予約できません。施設の予約ページをご利用ください。', 'This facility is not booked here: use its own booking page.', 'この しせつは ここでは よやく できません。'],
  free: ['無料', 'free', 'むりょう'],

  facility: ['施設', 'Facility', 'しせつ'],
  back_to_search: ['検索にもどる', 'Back to search', 'さがす ページに もどる'],
  address: ['住所', 'Address', 'じゅうしょ'],
  capacity: ['定員', 'Capacity', 'はいれる ひとの かず'],
  people: ['{n}人', '{n} people', '{n}にん'],
  opening_hours: ['利用時間・休館日', 'Opening hours', 'つかえる じかん・やすみ'],
  phone: ['電話', 'Phone', 'でんわ'],
  rules: ['利用のきまり', 'Rules', 'つかう ときの きまり'],
  no_rules: ['施設からの利用規則の情報はありません。', 'The facility has not published rules here.', 'きまりの じょうほうは ありません。'],
  window_rule: ['予約は{days}日前から、利用開始の{hours}時間前まで。キャンセルは{cancel}時間前まで。', 'Booking opens {days} days ahead and closes {hours} h before the start; cancel up to {cancel} h before.', '{days}にち まえから よやく できます。はじまる {hours}じかん まえまで です。やめる ときは {cancel}じかん まえまで。'],
  lottery: ['抽選のある施設です。', 'Some slots are allocated by lottery.', 'ちゅうせんの ある しせつです。'],
  photos_links: ['写真・リンク', 'Photos and links', 'しゃしん・リンク'],
  photo_n: ['写真 {n}（外部サイト）', 'Photo {n} (external site)', 'しゃしん {n}（ほかの サイト）'],
  photos_hint: ['写真は施設のサイトにあり、新しいタブで開きます。', 'Photos are on the facility’s own site and open in a new tab.', 'しゃしんは あたらしい タブで ひらきます。'],
  website: ['施設のウェブサイト（外部サイト）', 'The facility’s website (external site)', 'しせつの ウェブサイト（ほかの サイト）'],
  fees: ['料金', 'Fees', 'りょうきん'],
  your_price_is: ['あなたの料金（{cls}）: 1時間 {fee} から', 'Your price ({cls}): from {fee} per hour', 'あなたの りょうきん（{cls}）: 1じかん {fee} から'],
  fee_table: ['料金表', 'Fee schedule', 'りょうきんの ひょう'],
  band: ['区分', 'Band', 'くぶん'],
  band_unnamed: ['—', '—', '—'],
  days: ['曜日', 'Days', 'ようび'],
  every_day: ['毎日', 'every day', 'まいにち'],
  hours_col: ['時間帯', 'Hours', 'じかん'],
  resident_fee: ['市民料金', 'Resident fee', 'すんでいる ひとの りょうきん'],
  non_resident_fee: ['市外料金', 'Non-resident fee', 'ほかの まちの ひとの りょうきん'],
  per_unit: ['{n}分 {fee}', '{fee} per {n} min', '{n}ぷん {fee}'],
  availability: ['1週間の空き状況', 'Availability this week', '1しゅうかんの あき'],
  prev_week: ['前の週', 'Previous week', 'まえの しゅう'],
  next_week: ['次の週', 'Next week', 'つぎの しゅう'],
  week_caption: ['{from}〜{to} の空き状況（空いている枠を選んで仮予約）', 'Slots from {from} to {to} (choose a free slot to hold it)', '{from}〜{to}（あいている わくを えらんで ください）'],
  slots: ['枠', 'Slots', 'わく'],
  no_slots: ['枠なし', 'no slots', 'わくは ありません'],
  slot_AVAILABLE: ['空き', 'free', 'あき'],
  slot_HELD: ['仮予約中', 'held', 'ほかの ひとが よやく ちゅう'],
  slot_BOOKED: ['予約済', 'booked', 'よやく ずみ'],
  slot_CLOSED: ['利用不可', 'closed', 'つかえません'],
  slot_LOTTERY: ['抽選受付中', 'lottery', 'ちゅうせん'],
  availability_failed: ['空き状況を取得できませんでした（{why}）。', 'Availability could not be fetched ({why}).', 'あきが わかりませんでした（{why}）。'],
  owner_booking_page: ['施設の予約ページ（外部サイト）', 'The facility’s booking page (external site)', 'しせつの よやく ページ'],
  chosen_slot: ['選んだ枠: {range}', 'Chosen slot: {range}', 'えらんだ わく: {range}'],
  slot_fee: ['料金: {fee}', 'Fee: {fee}', 'りょうきん: {fee}'],
  fee_at_review: ['料金は次の確認画面で表示します。', 'The fee is shown on the next page.', 'りょうきんは つぎの がめんで みせます。'],
  hold_hint: ['仮予約すると、確定するまで一定時間この枠を確保します。', 'A hold keeps the slot for you for a short time until you confirm.', 'かりよやく すると、すこしの あいだ この わくを とって おきます。'],
  attendees: ['利用人数', 'Number of people', 'つかう ひとの かず'],
  purpose_of_use: ['利用目的', 'Purpose of use', 'なにに つかいますか'],
  purpose_of_use_hint: ['200文字まで（任意）', 'Up to 200 characters (optional)', '200もじ まで（かかなくても よい）'],
  err_attendees: ['「利用人数」は1から{max}までの数字にしてください。', '“Number of people” must be 1 to {max}.', '「つかう ひとの かず」は 1から{max}まで です。'],
  hold: ['仮予約する', 'Hold this slot', 'かりよやく する'],

  booking: ['予約', 'Booking', 'よやく'],
  booking_heading_HELD: ['内容を確認して予約を確定', 'Review and confirm', 'ないようを みて よやくを きめる'],
  booking_heading_CONFIRMED: ['予約が確定しました', 'Your booking is confirmed', 'よやくが きまりました'],
  booking_heading_CONFIRMING: ['予約を確定しています', 'Confirming your booking', 'よやくを きめて います'],
  booking_heading_CANCELLING: ['取り消しています', 'Cancelling', 'やめて います'],
  booking_heading_CANCELLED: ['取り消した予約', 'Cancelled booking', 'やめた よやく'],
  booking_heading_EXPIRED: ['仮予約の期限が切れました', 'The hold expired', 'かりよやくの じかんが おわりました'],
  booking_heading_FAILED: ['予約できませんでした', 'The booking failed', 'よやく できませんでした'],
  when: ['日時', 'When', 'いつ'],
  state: ['状態', 'State', 'いまの じょうたい'],
  fee: ['料金', 'Fee', 'りょうきん'],
  owner_reference: ['予約番号', 'Booking number', 'よやく ばんごう'],
  payment: ['支払い', 'Payment', 'しはらい'],
  cancel_until: ['キャンセル期限', 'Cancel until', 'やめられる きげん'],
  why_failed: ['理由', 'Reason', 'りゆう'],
  hold_left: ['仮予約の残り時間: {time}', 'Hold expires in {time}', 'かりよやくは あと {time} です'],
  hold_one_minute: ['仮予約の残りはあと1分です。', 'One minute left on the hold.', 'あと 1ぷん です。'],
  hold_expired: ['仮予約の期限が切れました。', 'The hold has expired.', 'かりよやくの じかんが おわりました。'],
  review_hint: ['料金と日時を確認して「予約を確定する」を押してください。', 'Check the fee and time, then confirm.', 'りょうきんと じかんを みて 「よやくを きめる」を おして ください。'],
  confirm_booking: ['予約を確定する', 'Confirm booking', 'よやくを きめる'],
  release_hold: ['仮予約をやめる', 'Release the hold', 'かりよやくを やめる'],
  booked_note: ['予約が確定しました。「わたしの予約」でいつでも確認できます。', 'Booked. You can see it in “My bookings” at any time.', 'よやくが きまりました。「わたしの よやく」で みられます。'],
  state_REQUESTED: ['受付中', 'requested', 'うけつけ ちゅう'],
  state_HELD: ['仮予約', 'held', 'かりよやく'],
  state_CONFIRMING: ['確定処理中', 'confirming', 'きめて いる ところ'],
  state_CONFIRMED: ['予約確定', 'confirmed', 'よやく ずみ'],
  state_FAILED: ['予約できず', 'failed', 'よやく できなかった'],
  state_CANCELLING: ['取消処理中', 'cancelling', 'やめて いる ところ'],
  state_CANCELLED: ['取消済', 'cancelled', 'やめた'],
  state_EXPIRED: ['期限切れ', 'expired', 'じかん ぎれ'],
  no_bookings: ['予約はまだありません。', 'You have no bookings yet.', 'よやくは まだ ありません。'],
  cancel_booking: ['予約を取り消す', 'Cancel booking', 'よやくを やめる'],
  really_cancel: ['{name}（{when}）の予約を取り消しますか？', 'Cancel the booking of {name} ({when})?', '{name}（{when}）の よやくを やめますか？'],
  yes_cancel: ['はい、取り消す', 'Yes, cancel it', 'はい、やめる'],
  keep_booking: ['取り消さない', 'Keep it', 'やめない'],
  cancelled_note: ['予約を取り消しました。', 'The booking was cancelled.', 'よやくを やめました。'],

  class_RESIDENT: ['在住', 'resident', 'すんでいる ひと'],
  class_WORKER: ['在勤', 'works here', 'はたらいて いる ひと'],
  class_STUDENT: ['在学', 'studies here', 'まなんで いる ひと'],
  class_PARTNER_AREA: ['協定による広域利用', 'partner city (agreement)', 'きょうていの ある まちの ひと'],
  class_OUTSIDER: ['市外', 'non-resident', 'ほかの まちの ひと'],
  class_UNSPECIFIED: ['不明', 'unknown', 'わかりません'],
  day_WEEKDAY: ['平日', 'weekdays', 'へいじつ'],
  day_SATURDAY: ['土曜', 'Saturdays', 'どようび'],
  day_SUNDAY: ['日曜', 'Sundays', 'にちようび'],
  day_HOLIDAY: ['祝日', 'holidays', 'しゅくじつ'],

  reason_SLOT_FULL: ['この枠はすでに予約されています。別の枠を選んでください。', 'This slot is already booked. Choose another.', 'この わくは もう よやく されて います。'],
  reason_SLOT_HELD: ['この枠はほかの方が仮予約中です。しばらくしてからお試しください。', 'Someone else is holding this slot. Try again later.', 'ほかの ひとが かりよやく して います。あとで ためして ください。'],
  reason_OUTSIDE_WINDOW: ['この枠は今は予約できない期間です。', 'This slot cannot be booked at this time.', 'いまは この わくを よやく できません。'],
  reason_NOT_ELIGIBLE: ['この施設はご利用いただけません。', 'You may not book this facility.', 'この しせつは つかえません。'],
  reason_PRICE_CHANGED: ['料金が変わりました。確認してからもう一度お試しください。', 'The fee has changed. Check it and try again.', 'りょうきんが かわりました。'],
  reason_CANCELLATION_CLOSED: ['キャンセル期限を過ぎています。施設にご連絡ください。', 'It is past the cancellation deadline. Contact the facility.', 'やめられる きげんが すぎて います。'],
  reason_OWNER_UNAVAILABLE: ['施設の予約システムが応答しません。しばらくしてからお試しください。', 'The facility’s booking system does not answer. Try again later.', 'しせつの システムが へんじを しません。あとで ためして ください。'],
  reason_HOLD_EXPIRED: ['仮予約の期限が切れました。もう一度枠を選んでください。', 'The hold expired. Choose the slot again.', 'かりよやくの じかんが おわりました。'],
  reason_NOT_BOOKABLE_VIA_HUB: ['この施設はここでは予約できません。', 'This facility is not booked here.', 'ここでは よやく できません。'],
  reason_LOTTERY_ONLY: ['この枠は抽選で決まります。', 'This slot is allocated by lottery.', 'この わくは ちゅうせんで きまります。'],
  reason_LIMIT_REACHED: ['予約できる数の上限です。', 'You have reached your booking limit.', 'これいじょう よやく できません。'],
  reason_INVALID_STATE: ['この予約では今その操作はできません。', 'This booking cannot do that now.', 'いまは できません。'],
  reason_LOGIN_REQUIRED: ['ログインしてください。', 'Please log in.', 'ログイン して ください。'],
  reason_NETWORK: ['通信できませんでした。接続を確認してください。', 'The network failed. Check your connection.', 'つうしん できませんでした。'],

  access_WHEELCHAIR_ACCESSIBLE: ['車椅子で利用可', 'Wheelchair accessible', 'くるまいすで つかえる'],
  access_WHEELCHAIR_LOAN: ['車椅子の貸出', 'Wheelchair loan', 'くるまいすを かりられる'],
  access_ACCESSIBLE_TOILET: ['バリアフリートイレ', 'Accessible toilet', 'だれでも つかえる トイレ'],
  access_STEP_FREE: ['段差なし', 'Step-free route', 'だんさが ない'],
  access_ELEVATOR: ['エレベーター', 'Elevator', 'エレベーター'],
  access_TACTILE_PAVING: ['点字ブロック', 'Tactile paving', 'てんじブロック'],
  access_BRAILLE_OR_AUDIO: ['点字・音声案内', 'Braille or audio guidance', 'てんじ・こえの あんない'],
  access_ASSISTANCE_DOGS: ['補助犬同伴可', 'Assistance dogs welcome', 'ほじょけんと はいれる'],
  access_HEARING_LOOP: ['ヒアリングループ', 'Hearing loop', 'ヒアリングループ'],
  access_WRITTEN_COMMUNICATION: ['筆談対応', 'Written communication', 'かいて はなせる'],
  access_CAPTIONS: ['字幕', 'Captions', 'じまく'],
  access_PARKING: ['駐車場', 'Parking', 'ちゅうしゃじょう'],
  access_ACCESSIBLE_PARKING: ['優先駐車場', 'Accessible parking', 'ゆうせん ちゅうしゃじょう'],
  access_OSTOMATE_TOILET: ['オストメイト対応トイレ', 'Ostomate toilet', 'オストメイトの トイレ'],
  access_NURSING_ROOM: ['授乳室', 'Nursing room', 'じゅにゅうしつ'],
  access_BABY_CHANGING: ['おむつ替え', 'Baby changing', 'おむつを かえる ところ'],
  access_STROLLER_ACCESSIBLE: ['ベビーカー利用可', 'Stroller accessible', 'ベビーカーで はいれる'],
};

const INDEX = { ja: 0, en: 1, easy: 2 };

function initial() {
  const stored = localStorage.getItem(LANG_KEY);
  if (stored in INDEX) return stored;
  return (navigator.language || 'ja').startsWith('ja') ? 'ja' : 'en';
}

let current = initial();
const listeners = [];

export const lang = () => current;
// BCP 47 locale for dates and numbers.
export const locale = () => (current === 'en' ? 'en-GB' : 'ja-JP');
// What the hub's own login and logout pages are asked to speak (they have ja and en).
export const uiLocale = () => (current === 'en' ? 'en' : 'ja');

export function setLang(id) {
  if (!(id in INDEX) || id === current) return;
  current = id;
  localStorage.setItem(LANG_KEY, id);
  document.documentElement.lang = id === 'en' ? 'en' : 'ja';
  for (const fn of listeners) fn();
}

export const onLanguageChange = (fn) => listeners.push(fn);

// The words for key in the current language with {vars} filled in; fallback (default: the key
// itself) when the key is unknown.
export function t(key, vars = {}, fallback = key) {
  const entry = WORDS[key];
  if (!entry) return fallback;
  return entry[INDEX[current]].replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}
